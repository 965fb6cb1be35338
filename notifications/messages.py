"""Message kinds, channels, the message value, and what each channel may say.

A notification tells a party that something needs their attention; it is never the service
itself (the arrival in the mailbox is, FJ art. 19). So the outside channels say as little as
the law needs (PIPL data minimisation): an SMS says only that something happened and where to
log in (plus the date for a deadline reminder); an e-mail may add the document type, the case
code, the agency and dates; only the in-portal notice, read after login, may carry titles,
places and amounts. This module fixes that policy in `CHANNEL_CEILINGS` and gives every
variable a formatter that checks its shape, so a caller cannot pass a name or an ID number
where a case code belongs. Texts live in `notifications.catalogue`; `notifications.rendering`
applies both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from notifications.errors import UnknownTemplate

__all__ = [
    "CHANNEL_CEILINGS",
    "VARIABLES",
    "ChannelKind",
    "Kind",
    "Message",
    "Rendered",
    "dedupe_key",
]

CHINA_TIME = ZoneInfo("Asia/Shanghai")


class Kind(StrEnum):
    """What happened; one template family per kind."""

    DOCUMENT_ARRIVED = "document_arrived"  # a document arrived in the party's mailbox
    DEADLINE_REMINDER = "deadline_reminder"  # a legal period is about to end
    HEARING_SCHEDULED = "hearing_scheduled"  # a hearing notice with time and place was served
    PAYMENT_CONFIRMED = "payment_confirmed"  # the payment platform confirmed a payment
    RECEIPT_ISSUED = "receipt_issued"  # a fiscal e-receipt was issued (listed with its fine)
    CONSENT_SIGNED = "consent_signed"  # e-service consent signed (also a security notice)
    CONSENT_REVOKED = "consent_revoked"  # e-service consent revoked (also a security notice)
    OBJECTION_ANSWERED = "objection_answered"  # the agency answered the party's objection to data


class ChannelKind(StrEnum):
    """How a party is reached. The in-portal notice is always on; the others are opt-in."""

    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Message:
    """One notification for one channel, as the portal's outbox row holds it.

    `recipient` is the channel's address: an e-mail address, a mobile number, or the portal's
    party reference for the in-portal notice. `context` holds only the variables the kind's
    template for this channel allows (see `Renderer.variables`); it is copied and frozen.
    Strings read back from the database are accepted for `kind` and `channel`.
    """

    id: str
    kind: Kind
    channel: ChannelKind
    recipient: str
    context: Mapping[str, object]
    dedupe_key: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", Kind(self.kind))
            object.__setattr__(self, "channel", ChannelKind(self.channel))
        except ValueError as exc:
            raise UnknownTemplate(str(exc)) from None
        if not self.recipient:
            raise ValueError("recipient must not be empty")
        if not self.dedupe_key:
            raise ValueError("dedupe_key must not be empty")
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))


@dataclass(frozen=True)
class Rendered:
    """Text ready for a channel, and the template version that produced it.

    `subject` is the e-mail subject or the notice title; None for SMS. Plain text: whoever puts
    it into HTML (the portal's bell) must escape it, as Jinja2 autoescape does.
    """

    subject: str | None
    body: str
    template_version: int


def dedupe_key(event_id: str, channel: ChannelKind) -> str:
    """The outbox dedupe key: one message per causing event and channel."""
    if not event_id:
        raise ValueError("event_id must not be empty")
    return f"{event_id}:{ChannelKind(channel)}"


Formatter = Callable[[object], str]

_CODE = re.compile(r"[0-9A-Za-z-]{1,40}")
# Links and addresses are the library's to write; a value carrying one could phish.
_SMUGGLED = re.compile(r"://|www\.|@", re.IGNORECASE)


def _text(max_length: int) -> Formatter:
    """Short single-line free text: no control characters, no links or addresses."""

    def format_text(value: object) -> str:
        if not isinstance(value, str):
            raise TypeError("expected text")
        text = value.strip()
        if not 0 < len(text) <= max_length:
            raise ValueError(f"expected 1 to {max_length} characters")
        if any(unicodedata.category(char).startswith("C") for char in text):
            raise ValueError("control characters are not allowed")
        if _SMUGGLED.search(text):
            raise ValueError("links and addresses are not allowed")
        return text

    return format_text


def _code(value: object) -> str:
    """A case code: ASCII letters, digits and hyphens, so no name fits into it."""
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValueError("expected a code of letters, digits and hyphens")
    return value


def _date(value: object) -> str:
    """A legal date (China time), as `date` or ISO `YYYY-MM-DD` from a JSON outbox row."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError("expected a date")
    return f"{value.year}年{value.month}月{value.day}日"


def _instant(value: object) -> str:
    """An aware instant, shown in China time; naive values are refused (no guessing)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise TypeError("expected an aware datetime")
    local = value.astimezone(CHINA_TIME)
    return f"{_date(local.date())} {local:%H:%M}（北京时间）"


def _fen(value: object) -> str:
    """An amount in integer fen, shown in yuan with two decimals."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("expected a non-negative integer amount in fen")
    return f"{value // 100:,}.{value % 100:02d} 元"


VARIABLES: Mapping[str, Formatter] = MappingProxyType(
    {
        "case_code": _code,
        "document_type": _text(30),
        "agency_name": _text(60),
        "deadline_name": _text(30),
        "deadline_date": _date,
        "hearing_at": _instant,
        "hearing_date": _date,
        "hearing_time": _text(20),
        "consent_date": _date,
        "document_title": _text(200),
        "arrived_at": _instant,
        "hearing_place": _text(200),
        "amount_fen": _fen,
        "paid_at": _instant,
        "receipt_number": _text(40),
        "answered_at": _instant,
    }
)
"""Every variable a template may use, with the formatter that checks and formats its value."""

CHANNEL_CEILINGS: Mapping[ChannelKind, frozenset[str]] = MappingProxyType(
    {
        ChannelKind.SMS: frozenset({"deadline_date"}),
        ChannelKind.EMAIL: frozenset(
            {
                "case_code",
                "document_type",
                "agency_name",
                "deadline_name",
                "deadline_date",
                "hearing_at",
                "hearing_date",
                "hearing_time",
                "consent_date",
            }
        ),
        ChannelKind.INBOX: frozenset(VARIABLES),
    }
)
"""The most any template of a channel may carry; the catalogue is checked against it."""
