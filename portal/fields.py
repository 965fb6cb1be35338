"""One reader of what comes in: text, dates, instants, amounts and choices, one vocabulary of codes.

Every value from outside (an agency's API body, a citizen's form, an ingested record) is read
here, so the portal refuses the same things everywhere, with the same stable codes, before
anything is stored, logged, masked, rendered into a PDF or forwarded to an agency.

The codes (the API's ``errors`` members; the pages show ``catalogue`` sentences for them):

    required           missing, null, or only blanks
    invalid_type       not the JSON type the field takes (a number for a text, ``true`` for an amount)
    too_long           more characters than the field's limit, counted after trimming
    invalid_character  NUL and the other C0 and C1 controls (line feed and tab only in a text
                       that may span lines), the bidi overrides and isolates U+202A-202E and
                       U+2066-2069 (they reorder what a reader sees: "U+202E" turns "exe.pdf"
                       around), lone surrogates, and the noncharacters U+FFFE, U+FFFF
    invalid_choice     not one of the values the field takes
    invalid_date       not ``YYYY-MM-DD``, or no such day
    invalid_instant    not RFC 3339 with its offset (``2026-11-20T09:30:00+08:00`` or ``…Z``)
    out_of_range       a number, date or instant outside the field's bounds
    too_many           more items in a list than the field takes
    in_future          after the bound "now" or "today", where the caller says so (``after_latest``)
    unknown_field      a member the object may not have
    party_required, invalid_id_number, invalid_credit_code
                       a party named by neither identifier, or one whose check character is wrong

Text is trimmed; a multi-line text has its line ends made ``\\n``. Other characters, rare CJK
ones included (Extensions B-I, private-use code points some name registers use), are kept as
they came: names must survive exactly.

How to use it. A body (a JSON object, or a form's fields) is read through a ``Reader``, which
collects one code per path and raises them all at once::

    read = Reader(body, allowed=("decision_number", "amount_fen", "served_on", "party"))
    number = read.text("decision_number", limit=100)
    amount = read.fen("amount_fen", minimum=1)
    served = read.day("served_on", earliest=EARLIEST_DATE, latest=today, after_latest="in_future")
    party = read.object("party", allowed=("id_number", "credit_code"))   # codes under "party.…"
    name = party.text("name", limit=200) if party else None
    read.raise_errors()           # ValidationFailed({"amount_fen": "out_of_range", …}) if any

Each reading method returns ``None`` when the value was refused (or, with ``required=False``,
absent). A single value outside a body goes through the functions (``text``, ``day``,
``instant``, ``fen``, ``choice``), which raise ``FieldError(code)``.

Bounds are always the caller's: a date reader takes ``earliest`` and ``latest``, because what is
plausible depends on the field (a decision date is not in the future; a deadline may be years
ahead; ``EARLIEST_DATE`` is the floor for any date of a case).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from portal.errors import ValidationFailed
from portal.identifiers import is_valid_credit_code, is_valid_id_number

T = TypeVar("T")

MAX_FEN = 10**15
"""Ten trillion yuan: far above any fine, inside a 64-bit column."""
EARLIEST_DATE = date(2000, 1, 1)
"""No case the portal holds began before this day; older dates are typing errors."""
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)
"""For a filter that may name any instant ahead (it then finds nothing); never for a fact."""

_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_NONCHARACTERS = frozenset("\ufffe\uffff")


class FieldError(ValueError):
    """One value refused, with its code from the vocabulary above."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character ``value`` may not contain, or None (see ``invalid_character``)."""
    for char in value:
        point = ord(char)
        if point < 0x20 or 0x7F <= point <= 0x9F:
            if multiline and char in "\n\t":
                continue
            return char
        if 0xD800 <= point <= 0xDFFF or char in _BIDI_CONTROLS or char in _NONCHARACTERS:
            return char
    return None


def text(value: object, *, limit: int, multiline: bool = False) -> str:
    """``value`` as trimmed text of at most ``limit`` characters."""
    if value is None:
        raise FieldError("required")
    if not isinstance(value, str):
        raise FieldError("invalid_type")
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip()
    if not value:
        raise FieldError("required")
    if len(value) > limit:
        raise FieldError("too_long")
    if refused_character(value, multiline=multiline) is not None:
        raise FieldError("invalid_character")
    return value


def choice(value: object, choices: Collection[T]) -> T:
    """The one of ``choices`` (strings, or a ``StrEnum``'s members) that ``value`` is, compared
    as given: no trimming, no case folding."""
    if value is None:
        raise FieldError("required")
    if isinstance(value, str):
        for allowed in choices:
            if value == allowed:
                return allowed
    raise FieldError("invalid_choice")


def _bounded(value: T, earliest: Any, latest: Any, after_latest: str) -> T:
    if value < earliest:
        raise FieldError("out_of_range")
    if value > latest:
        raise FieldError(after_latest)
    return value


def day(value: object, *, earliest: date, latest: date, after_latest: str = "out_of_range") -> date:
    """``value``, an ISO 8601 calendar date ``YYYY-MM-DD`` (nothing else: not ``20261120``,
    not a week date), within ``earliest`` … ``latest``; ``after_latest="in_future"`` when
    ``latest`` is today."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("required")
    if not isinstance(value, str):
        raise FieldError("invalid_type")
    if len(value) != 10 or not value.isascii() or value[4] != "-" or value[7] != "-":
        raise FieldError("invalid_date")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise FieldError("invalid_date") from None
    return _bounded(parsed, earliest, latest, after_latest)


def instant(value: object, *, earliest: datetime, latest: datetime,
            after_latest: str = "out_of_range") -> datetime:
    """``value``, an RFC 3339 instant with its offset, within ``earliest`` … ``latest``
    (aware datetimes); ``after_latest="in_future"`` when ``latest`` is now."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("required")
    if not isinstance(value, str):
        raise FieldError("invalid_type")
    if not value.isascii() or len(value) > 40:
        raise FieldError("invalid_instant")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError("invalid_instant") from None
    if parsed.utcoffset() is None:
        raise FieldError("invalid_instant")  # an instant needs its offset: "+08:00" or "Z"
    return _bounded(parsed, earliest, latest, after_latest)


def fen(value: object, *, minimum: int = 0, maximum: int = MAX_FEN) -> int:
    """``value``, a whole number of fen (a JSON integer, never a float or a string)."""
    if value is None:
        raise FieldError("required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError("invalid_type")
    return _bounded(value, minimum, maximum, "out_of_range")


def party_key(value: object) -> str:
    """A party as an agency names it, ``{"id_number": "…"}`` or ``{"credit_code": "…"}``: the
    identifier, trimmed and in upper case, with a valid check character (``portal.identifiers``)."""
    if isinstance(value, Mapping) and isinstance(value.get("id_number"), str):
        key = value["id_number"].strip().upper()
        if not is_valid_id_number(key):
            raise FieldError("invalid_id_number")
        return key
    if isinstance(value, Mapping) and isinstance(value.get("credit_code"), str):
        key = value["credit_code"].strip().upper()
        if not is_valid_credit_code(key):
            raise FieldError("invalid_credit_code")
        return key
    raise FieldError("party_required")


class Reader:
    """Reads the members of one object (a JSON object or a form's fields), recording a code
    per refused path in ``errors``; nested readers share the same ``errors``."""

    def __init__(self, body: object, *, allowed: Collection[str] | None = None, path: str = "",
                 errors: dict[str, str] | None = None) -> None:
        self.errors: dict[str, str] = {} if errors is None else errors
        self.path = path
        self.body: Mapping[str, Any] = {}
        if not isinstance(body, Mapping):
            self.errors[path or "body"] = "invalid_type" if body is not None else "required"
            return
        self.body = body
        if allowed is not None:
            for name in body:
                if name not in allowed:
                    self.errors[self.where(str(name))] = "unknown_field"

    def where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    @property
    def ok(self) -> bool:
        """No error recorded so far (in this reader or any sharing its errors)."""
        return not self.errors

    def has(self, name: str) -> bool:
        """The member is present and not null."""
        return self.body.get(name) is not None

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(dict(sorted(self.errors.items())))

    def _read(self, name: str, required: bool, read: Any, *args: Any, **kwargs: Any) -> Any:
        value = self.body.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and read is not choice):
            if required:
                self.errors[self.where(name)] = "required"
            return None
        try:
            return read(value, *args, **kwargs)
        except FieldError as refused:
            self.errors[self.where(name)] = refused.code
            return None

    def text(self, name: str, *, limit: int, multiline: bool = False, required: bool = True) -> str | None:
        result: str | None = self._read(name, required, text, limit=limit, multiline=multiline)
        return result

    def choice(self, name: str, choices: Collection[T], *, required: bool = True) -> T | None:
        result: T | None = self._read(name, required, choice, choices)
        return result

    def day(self, name: str, *, earliest: date, latest: date, after_latest: str = "out_of_range",
            required: bool = True) -> date | None:
        result: date | None = self._read(name, required, day, earliest=earliest, latest=latest,
                                         after_latest=after_latest)
        return result

    def instant(self, name: str, *, earliest: datetime, latest: datetime,
                after_latest: str = "out_of_range", required: bool = True) -> datetime | None:
        result: datetime | None = self._read(name, required, instant, earliest=earliest, latest=latest,
                                             after_latest=after_latest)
        return result

    def fen(self, name: str, *, minimum: int = 0, maximum: int = MAX_FEN,
            required: bool = True) -> int | None:
        result: int | None = self._read(name, required, fen, minimum=minimum, maximum=maximum)
        return result

    def party_key(self, name: str) -> str | None:
        """The party member (``party_key``); ``party_required`` when absent."""
        try:
            return party_key(self.body.get(name))
        except FieldError as refused:
            self.errors[self.where(name)] = refused.code
            return None

    def flag(self, name: str, *, default: bool | None = None) -> bool | None:
        """A JSON boolean; absent or null: ``default`` (``None``: the member is required)."""
        value = self.body.get(name)
        if value is None:
            if default is None:
                self.errors[self.where(name)] = "required"
            return default
        if not isinstance(value, bool):
            self.errors[self.where(name)] = "invalid_type"
            return default
        return value

    def object(self, name: str, *, allowed: Collection[str] | None = None,
               required: bool = True) -> Reader | None:
        """A nested object's reader (its codes under ``name.…``); None if absent or not an object."""
        value = self.body.get(name)
        if value is None:
            if required:
                self.errors[self.where(name)] = "required"
            return None
        if not isinstance(value, Mapping):
            self.errors[self.where(name)] = "invalid_type"
            return None
        return Reader(value, allowed=allowed, path=self.where(name), errors=self.errors)

    def items(self, name: str, *, most: int, required: bool = True) -> list[Any]:
        """A JSON array of at most ``most`` items (``too_many`` beyond)."""
        value = self.body.get(name)
        if value is None:
            if required:
                self.errors[self.where(name)] = "required"
            return []
        if not isinstance(value, list):
            self.errors[self.where(name)] = "invalid_type"
            return []
        if len(value) > most:
            self.errors[self.where(name)] = "too_many"
            return []
        return value
