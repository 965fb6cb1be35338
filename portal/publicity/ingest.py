"""An agency's publication as it arrives, and the masked content that may be stored.

``submission_from_json`` turns an API body into a ``Submission`` -- the raw values, which
are never stored, logged or indexed -- naming every bad member by a stable code, as the case
API does. ``publishable`` is the one way from a ``Submission`` to ``PublicContent``, the
masked values the portal keeps (FJ art. 8, GD art. 46, PIPL):

- a natural person is kept as surname + masked given name (``mask_person_name``); the public
  record needs no ID number. The agency may send the party's (``party.id_number``) and those of
  persons in ``named_persons`` (``{"name", "id_number"}``) only so that these persons can be
  recognised when they object (``concerned``; ``services.publication_subjects`` keeps keyed
  digests of them, never the numbers);
- an organisation keeps its name and its unified social credit code (checked, GB 32100);
- violation, legal basis and result are free texts: ``mask_text`` runs on each, told the
  party's name and any other persons the agency names in ``named_persons`` (used for masking
  only, then dropped), so several persons in one text are all caught;
- the agency's case number is an identifier and is not rewritten; one that ``mask_text``
  would change holds personal data and is refused (``personal_data``).

``masked`` records each field's findings (kind and position, never the value), so the agency
sees what was masked and the log may count it. ``search_text`` builds the one text the
search index sees, from the masked content only.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from portal import fields
from portal.catalogue import PUBLICITY_REGIONS
from portal.errors import ValidationFailed
from portal.identifiers import is_valid_credit_code, normalise_credit_code
from portal.publicity.masking import mask_text
from portal.publicity.names import mask_person_name
from portal.publicity.window import PublicityPeriod
from portal.vocabulary import ORGANISATION, PERSON

REGION_CODES = tuple(PUBLICITY_REGIONS)
TEXT_LIMITS = {"violation": 2000, "legal_basis": 1000, "result": 1000}
FREE_TEXTS = tuple(TEXT_LIMITS)
MAX_NAMED_PERSONS = 20
_CASE_NUMBER_LIMIT = 100
_NAME_LIMIT = 200
_PERSON_NAME_LIMIT = 50


class Kind(StrEnum):
    """What is published (the four kinds of enforcement information of the issue)."""

    PENALTY_DECISION = "penalty_decision"
    INSPECTION_RESULT = "inspection_result"
    COERCIVE_MEASURE = "coercive_measure"
    OTHER = "other"


@dataclass(frozen=True)
class Submission:
    """What an agency sends to publish (or, with ``kind`` and case number None, to change)."""

    kind: Kind | None
    agency_case_number: str | None
    party_kind: str
    party_name: str = field(repr=False)
    credit_code: str | None
    violation: str = field(repr=False)
    legal_basis: str = field(repr=False)
    result: str = field(repr=False)
    amount_fen: int | None
    decision_date: date
    region_code: str
    named_persons: tuple[str, ...] = field(default=(), repr=False)
    period: PublicityPeriod | None = None
    concerned: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)
    """(role, kind, identifier) of whom the item concerns: the party (``party``, by ID number
    or credit code) and named persons with an ID number (``named``); never published."""


@dataclass(frozen=True)
class MaskedField:
    """One masked datum: which field, what kind, ``value[start:end]`` -- never the value."""

    field: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class PublicContent:
    """The content of one version as it may be published: every free text masked."""

    party_kind: str
    party_name: str
    credit_code: str | None
    violation: str
    legal_basis: str
    result: str
    amount_fen: int | None
    decision_date: date
    region_code: str
    masked: tuple[MaskedField, ...] = ()

    def digest(self) -> str:
        """SHA-256 of the published content, for the evidence chain."""
        values = asdict(self)
        values.pop("masked")
        values["decision_date"] = self.decision_date.isoformat()
        canonical = "\x1f".join(f"{key}={'' if value is None else value}"
                                for key, value in sorted(values.items()))
        return hashlib.sha256(canonical.encode()).hexdigest()


def publishable(submission: Submission) -> PublicContent:
    """The masked content of ``submission`` (module docstring); raw values stay behind."""
    person = submission.party_kind == PERSON
    known_persons = ([submission.party_name] if person else []) + list(submission.named_persons)
    organisations = [] if person else [submission.party_name]
    masked: list[MaskedField] = []
    texts: dict[str, str] = {}
    for name in FREE_TEXTS:
        result = mask_text(getattr(submission, name), known_persons=known_persons,
                           known_organisations=organisations)
        texts[name] = result.text
        masked += [MaskedField(name, f.kind.value, f.start, f.end) for f in result.findings]
    party_name = submission.party_name
    if person:
        party_name = mask_person_name(party_name)
        if party_name != submission.party_name:
            masked.insert(0, MaskedField("party.name", "person_name", 0, len(party_name)))
    return PublicContent(
        party_kind=submission.party_kind, party_name=party_name,
        credit_code=None if person else submission.credit_code,
        violation=texts["violation"], legal_basis=texts["legal_basis"], result=texts["result"],
        amount_fen=submission.amount_fen, decision_date=submission.decision_date,
        region_code=submission.region_code, masked=tuple(masked))


def search_text(agency_case_number: str, content: PublicContent) -> str:
    """What keyword search matches: party, credit code, case number and the masked texts."""
    parts = (content.party_name, content.credit_code or "", agency_case_number,
             content.violation, content.legal_basis, content.result)
    return for_search("\n".join(part for part in parts if part))


def for_search(text: str) -> str:
    """Text and keywords alike: NFKC (full-width ２０２５ and ＡＢ match 2025 and ab) and lower
    case, so that one case-sensitive LIKE serves both databases."""
    return unicodedata.normalize("NFKC", text).lower()


def submission_from_json(body: Any, *, new: bool) -> Submission:
    """Parse a POST (``new``) or PUT body through ``portal.fields``; ``ValidationFailed`` names
    every bad member. A decision date after today is the service's to refuse (``in_future``, by
    the database's clock)."""
    allowed = {"party", "amount_fen", "decision_date", "region_code", "named_persons",
               "publicity_days", "publicity_basis", *FREE_TEXTS}
    if new:
        allowed |= {"kind", "agency_case_number"}
    read = fields.Reader(body, allowed=allowed)
    if "body" in read.errors:
        read.raise_errors()
    kind = read.choice("kind", list(Kind)) if new else None
    case_number = read.text("agency_case_number", limit=_CASE_NUMBER_LIMIT) if new else None
    if case_number and mask_text(case_number).findings:
        read.errors["agency_case_number"] = "personal_data"
    party_kind, party_name, credit_code, party_id_number = _party(read)
    texts = {name: read.text(name, limit=limit, multiline=True) for name, limit in TEXT_LIMITS.items()}
    amount = read.fen("amount_fen", maximum=fields.MAX_FEN, required=False)
    decided = read.day("decision_date", earliest=fields.EARLIEST_DATE, latest=date.max)
    region = read.choice("region_code", REGION_CODES)
    named, numbers = _named_in_content(read)
    period = _period(read.body, read.errors)
    read.raise_errors()
    if decided is None or region is None:
        raise ValidationFailed({"decision_date" if decided is None else "region_code": "required"})
    return Submission(
        kind=kind, agency_case_number=case_number,
        party_kind=party_kind, party_name=party_name, credit_code=credit_code,
        violation=texts["violation"] or "", legal_basis=texts["legal_basis"] or "",
        result=texts["result"] or "", amount_fen=amount, decision_date=decided,
        region_code=region, named_persons=named, period=period,
        concerned=_concerned(party_kind, party_id_number or credit_code, numbers))


def _concerned(party_kind: str, party_identifier: str | None,
               named_numbers: list[str]) -> tuple[tuple[str, str, str], ...]:
    found = [("party", party_kind, party_identifier)] if party_identifier else []
    return tuple(found + [("named", PERSON, number) for number in named_numbers])


def named_persons(read: fields.Reader) -> tuple[str, ...]:
    """The optional ``named_persons`` member (persons the texts name, to be masked): at most
    ``MAX_NAMED_PERSONS`` names (``too_many``), each a name (else ``invalid_type``)."""
    listed = read.items("named_persons", most=MAX_NAMED_PERSONS, required=False)
    try:
        return tuple(fields.text(name, limit=_PERSON_NAME_LIMIT) for name in listed)
    except fields.FieldError:
        read.errors["named_persons"] = "invalid_type"
        return ()


def _named_in_content(read: fields.Reader) -> tuple[tuple[str, ...], list[str]]:
    """The persons ``named_persons`` names, to be masked, and the ID numbers of those among them
    the agency wants recognised when they object: each entry a name or ``{"name", "id_number"}``."""
    names: list[str] = []
    numbers: list[str] = []
    for index, entry in enumerate(read.items("named_persons", most=MAX_NAMED_PERSONS, required=False)):
        if isinstance(entry, Mapping):
            person = fields.Reader(entry, allowed=("name", "id_number"), path=f"named_persons.{index}",
                                   errors=read.errors)
            name = person.text("name", limit=_PERSON_NAME_LIMIT)
            number = _id_number(person)
            if number:
                numbers.append(number)
        else:
            try:
                name = fields.text(entry, limit=_PERSON_NAME_LIMIT)
            except fields.FieldError:
                read.errors["named_persons"] = "invalid_type"
                continue
        if name:
            names.append(name)
    return tuple(names), numbers


def _id_number(read: fields.Reader) -> str | None:
    """The optional ``id_number`` member, checked (GB 11643); ``invalid_id_number`` if not."""
    if not read.has("id_number"):
        return None
    try:
        return fields.party_key({"id_number": read.body["id_number"]})
    except fields.FieldError:
        read.errors[read.where("id_number")] = "invalid_id_number"
        return None


def _party(read: fields.Reader) -> tuple[str, str, str | None, str | None]:
    """Kind, name, credit code (organisations) and ID number (persons, optional)."""
    party = read.object("party", allowed=("kind", "name", "credit_code", "id_number"))
    if party is None:
        return PERSON, "", None, None
    name = party.text("name", limit=_NAME_LIMIT) or ""
    kind = party.choice("kind", (PERSON, ORGANISATION))
    if kind != ORGANISATION:
        if kind == PERSON and party.has("credit_code"):
            read.errors["party.credit_code"] = "not_allowed"
        return PERSON, name, None, _id_number(party) if kind == PERSON else None
    if party.has("id_number"):
        read.errors["party.id_number"] = "not_allowed"
    code = party.body.get("credit_code")
    if not isinstance(code, str) or not is_valid_credit_code(code):
        read.errors["party.credit_code"] = "required" if not code else "invalid_credit_code"
        return ORGANISATION, name, None, None
    return ORGANISATION, name, normalise_credit_code(code), None


def _period(body: Mapping[str, Any], errors: dict[str, str]) -> PublicityPeriod | None:
    if "publicity_days" not in body and "publicity_basis" not in body:
        return None
    days, basis = body.get("publicity_days"), body.get("publicity_basis")
    if days is not None and type(days) is not int:
        errors["publicity_days"] = "invalid_type"
        return None
    if basis is not None and not isinstance(basis, str):
        errors["publicity_basis"] = "invalid_type"
        return None
    period = PublicityPeriod(days, (basis or "").strip() or None)
    errors.update(period.problems())
    return period
