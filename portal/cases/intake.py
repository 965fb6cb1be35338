"""A case as an agency registers it: the values, and every check they pass before storage.

``NewCase`` is what ``services.cases.register_case`` takes, whoever calls it (the agency API,
the demo, the e-service code). ``problems`` checks a ``NewCase`` and names each bad field by
its path (``parties[1].credit_code``) with a stable code (``portal.fields``' vocabulary), so
an agency's system can point at the field; ``new_case_from_json`` reads an API body through
``portal.fields`` into a ``NewCase``, with the same codes for missing or mistyped members.
Parties are named by their legal identifiers, checked with their check characters
(``portal.identifiers``): a typo must not attach a case to a stranger.

Officers: at least two enforcement officers act in a case (APL art. 42), and the party is
shown each one's name and enforcement credential number (art. 55).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal import fields
from portal.errors import ValidationFailed
from portal.identifiers import (
    is_valid_credit_code,
    is_valid_id_number,
    normalise_credit_code,
    normalise_id_number,
)
from portal.vocabulary import ORGANISATION, PERSON

MAX_PARTIES = 20
MIN_OFFICERS = 2  # APL art. 42: "执法人员不得少于两人"
MAX_OFFICERS = 10
_LIMITS = {"agency_case_number": 100, "case_type": 40, "matter": 500}
_MULTILINE = frozenset({"matter"})
_NAME_LIMIT = 200
_OFFICER_LIMIT = 50
_IDENTIFIER_LIMIT = 40


@dataclass(frozen=True)
class NewParty:
    kind: str  # "person" | "organisation"
    name: str
    id_number: str | None = None
    credit_code: str | None = None

    @property
    def identifier(self) -> str:
        """The normalised legal identifier the party is found by."""
        if self.kind == PERSON:
            return normalise_id_number(self.id_number or "")
        return normalise_credit_code(self.credit_code or "")


@dataclass(frozen=True)
class Officer:
    name: str
    credential_number: str


@dataclass(frozen=True)
class NewCase:
    agency_case_number: str
    case_type: str
    matter: str
    hearing_right: bool
    electronic_monitoring: bool
    parties: tuple[NewParty, ...]
    officers: tuple[Officer, ...]


def problems(case: NewCase) -> dict[str, str]:
    """Field path → error code for everything wrong with ``case``; empty when it is valid."""
    errors: dict[str, str] = {}
    for name, limit in _LIMITS.items():
        _text(errors, name, getattr(case, name), limit)
    if not case.parties:
        errors["parties"] = "required"
    elif len(case.parties) > MAX_PARTIES:
        errors["parties"] = "too_many"
    seen: set[tuple[str, str]] = set()
    for i, party in enumerate(case.parties):
        where = f"parties[{i}]"
        _text(errors, f"{where}.name", party.name, _NAME_LIMIT)
        if party.kind == PERSON:
            if party.credit_code is not None:
                errors[f"{where}.credit_code"] = "not_allowed"
            if not is_valid_id_number(party.id_number or ""):
                errors[f"{where}.id_number"] = "required" if not party.id_number else "invalid_id_number"
        elif party.kind == ORGANISATION:
            if party.id_number is not None:
                errors[f"{where}.id_number"] = "not_allowed"
            if not is_valid_credit_code(party.credit_code or ""):
                errors[f"{where}.credit_code"] = ("required" if not party.credit_code
                                                  else "invalid_credit_code")
        else:
            errors[f"{where}.kind"] = "invalid_choice"
            continue
        if (party.kind, party.identifier) in seen:
            errors[where] = "duplicate_party"
        seen.add((party.kind, party.identifier))
    if len(case.officers) < MIN_OFFICERS:
        errors["officers"] = "too_few_officers"
    elif len(case.officers) > MAX_OFFICERS:
        errors["officers"] = "too_many"
    for i, officer in enumerate(case.officers):
        _text(errors, f"officers[{i}].name", officer.name, _OFFICER_LIMIT)
        _text(errors, f"officers[{i}].credential_number", officer.credential_number, _OFFICER_LIMIT)
    return errors


def _text(errors: dict[str, str], path: str, value: str, limit: int) -> None:
    try:
        fields.text(value, limit=limit, multiline=path in _MULTILINE)
    except fields.FieldError as refused:
        errors[path] = refused.code


def checked(case: NewCase) -> NewCase:
    """``case`` with text trimmed and identifiers normalised; ``ValidationFailed`` if invalid."""
    errors = problems(case)
    if errors:
        raise ValidationFailed(errors)
    return NewCase(
        agency_case_number=case.agency_case_number.strip(),
        case_type=case.case_type.strip(),
        matter=case.matter.strip(),
        hearing_right=case.hearing_right,
        electronic_monitoring=case.electronic_monitoring,
        parties=tuple(NewParty(p.kind, p.name.strip(),
                               p.identifier if p.kind == PERSON else None,
                               p.identifier if p.kind == ORGANISATION else None)
                      for p in case.parties),
        officers=tuple(Officer(o.name.strip(), o.credential_number.strip()) for o in case.officers),
    )


_CASE_MEMBERS = ("agency_case_number", "case_type", "matter", "hearing_right",
                 "electronic_monitoring", "parties", "officers")
_PARTY_MEMBERS = ("kind", "name", "id_number", "credit_code")
_OFFICER_MEMBERS = ("name", "credential_number")


def new_case_from_json(body: Any) -> NewCase:
    """The ``NewCase`` in an API body (see the ``NewCase`` schema of the agency API), checked;
    ``ValidationFailed`` lists every bad member at once."""
    read = fields.Reader(body, allowed=_CASE_MEMBERS)
    if "body" in read.errors:
        read.raise_errors()
    texts = {name: read.text(name, limit=limit, multiline=name in _MULTILINE) or ""
             for name, limit in _LIMITS.items()}
    flags = {name: bool(read.flag(name)) for name in ("hearing_right", "electronic_monitoring")}
    parties = []
    for i, raw in enumerate(read.items("parties", most=MAX_PARTIES)):
        member = fields.Reader(raw, allowed=_PARTY_MEMBERS, path=f"parties[{i}]", errors=read.errors)
        parties.append(NewParty(member.choice("kind", (PERSON, ORGANISATION)) or "",
                                member.text("name", limit=_NAME_LIMIT) or "",
                                member.text("id_number", limit=_IDENTIFIER_LIMIT, required=False),
                                member.text("credit_code", limit=_IDENTIFIER_LIMIT, required=False)))
    officers = []
    for i, raw in enumerate(read.items("officers", most=MAX_OFFICERS)):
        member = fields.Reader(raw, allowed=_OFFICER_MEMBERS, path=f"officers[{i}]", errors=read.errors)
        officers.append(Officer(member.text("name", limit=_OFFICER_LIMIT) or "",
                                member.text("credential_number", limit=_OFFICER_LIMIT) or ""))
    case = NewCase(texts["agency_case_number"], texts["case_type"], texts["matter"],
                   flags["hearing_right"], flags["electronic_monitoring"], tuple(parties),
                   tuple(officers))
    # Shape errors first; value errors for the paths that had the right shape.
    errors = {**{k: v for k, v in problems(case).items()
                 if not any(k == p or k.startswith(p + ".") for p in read.errors)},
              **read.errors}
    if errors:
        raise ValidationFailed(dict(sorted(errors.items())))
    return checked(case)
