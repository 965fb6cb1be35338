"""The publishing API: an agency publishes, changes and withdraws enforcement information.

    POST /api/v1/publications                         publish (201; warnings if late)
    GET  /api/v1/publications/{id}                    the agency's view, every version
    PUT  /api/v1/publications/{id}                    publish a changed version (history kept)
    POST /api/v1/publications/{id}/withdrawal         withdraw, with a ground and a reason

The body is masked on arrival (``portal.publicity.ingest``): the answer shows exactly what was
stored and published, and ``masked`` lists what was hidden where. The window rules are the
portal's (``portal.publicity.window``); refusals are problem details with stable codes:
``publication_exists``, ``withdrawal_too_early`` (with ``earliest_withdrawal`` and
``allowed_grounds``), ``already_withdrawn``, ``publication_withdrawn``,
``publication_expired``, ``validation_failed`` (field codes in ``errors``). Another agency's
item answers 404 like a missing one (ASVS v5.0.0-8.4.1).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal import fields
from portal.catalogue import PUBLICITY_REGIONS
from portal.errors import NotFound, ValidationFailed
from portal.evidence_hash import instant_text
from portal.publicity.ingest import (
    FREE_TEXTS,
    TEXT_LIMITS,
    Kind,
    Submission,
    named_persons,
    submission_from_json,
)
from portal.publicity.window import CITED_MAX_DAYS, CITED_MIN_DAYS, WithdrawalGround
from portal.services import publication_subjects, publications
from portal.services.api_tokens import AgencyPrincipal
from portal.services.calendar import load_calendar
from portal.services.publications import AgencyPublication, Notice, VersionView
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint
from portal.web.api.bodies import read_json
from portal.web.clock import pinned_now

MAX_JSON_BYTES = 64 * 1024
MAX_REASON_LENGTH = 1000

_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_NAMED = {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 50},
          "description": "Other natural persons the texts name, so that they are masked too. Used "
                         "for masking only; never stored."}

_ID_NUMBER = {"type": "string", "description": "Resident ID number (GB 11643), optional: never "
               "published or stored; the portal keeps a keyed digest so that this person, logged "
               "in, may object to the item (数据异议, GD art. 49)."}
_NAMED_IN_CONTENT = {
    **_NAMED, "items": {"oneOf": [_NAMED["items"], {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": _NAMED["items"], "id_number": _ID_NUMBER}}]},
    "description": "Other natural persons the texts name, so that they are masked too: a name, or "
                   "`{name, id_number}` to let the person object to the item. Never stored as given.",
}

PARTY = openapi.Schema("PublicationParty", {
    "type": "object", "required": ["kind", "name"], "additionalProperties": False,
    "description": "An organisation by name and unified social credit code (shown in full), or a "
                   "natural person by name (published as surname + masked given name).",
    "properties": {"kind": {"enum": ["person", "organisation"]}, "name": {**_TEXT, "maxLength": 200},
                   "credit_code": {"type": "string", "description": "Organisations only (GB 32100)."},
                   "id_number": {**_ID_NUMBER, "description": "Persons only. " + _ID_NUMBER["description"]}},
})
_CONTENT: dict[str, Any] = {
    "party": PARTY.ref(),
    **{name: {**_TEXT, "maxLength": TEXT_LIMITS[name]} for name in FREE_TEXTS},
    "amount_fen": {"type": ["integer", "null"], "minimum": 0, "description": "Fine or confiscation "
                   "in fen (0.01 yuan), if any."},
    "decision_date": {**_DATE, "description": "The day the decision was made (China time); not in "
                      "the future. Published more than 7 working days later: a warning."},
    "region_code": {"enum": list(PUBLICITY_REGIONS)},
    "named_persons": _NAMED_IN_CONTENT,
    "publicity_days": {"type": ["integer", "null"], "minimum": CITED_MIN_DAYS, "maximum": CITED_MAX_DAYS,
                       "description": "How long the item stays public. Absent: 2 years (FJ art. 21). "
                                      "60-730 days as chosen; 7-1826 days only with "
                                      "`publicity_basis`."},
    "publicity_basis": {"type": ["string", "null"], "maxLength": 200,
                        "description": "The law that sets a period outside 60 days to 2 years."},
}
_CONTENT_REQUIRED = ["party", *FREE_TEXTS, "decision_date", "region_code"]
NEW = openapi.Schema("NewPublication", {
    "type": "object", "additionalProperties": False,
    "required": ["kind", "agency_case_number", *_CONTENT_REQUIRED],
    "properties": {"kind": {"enum": [k.value for k in Kind]},
                   "agency_case_number": {**_TEXT, "maxLength": 100,
                                          "description": "Unique per agency and kind; must hold no "
                                                         "personal data."},
                   **_CONTENT},
}, uses=(PARTY,))
CHANGE = openapi.Schema("PublicationChange", {
    "type": "object", "additionalProperties": False, "required": _CONTENT_REQUIRED,
    "description": "The whole changed content. Without `publicity_days`/`publicity_basis` the "
                   "item keeps its period, which runs again from this publication (FJ art. 21).",
    "properties": _CONTENT,
}, uses=(PARTY,))
WITHDRAWAL_IN = openapi.Schema("NewWithdrawal", {
    "type": "object", "additionalProperties": False, "required": ["ground", "reason"],
    "properties": {
        "ground": {"enum": [g.value for g in WithdrawalGround],
                   "description": "The first four are APL art. 48, allowed at any time; `other` only "
                                  "after 60 days of publicity (FJ art. 21)."},
        "reason": {**_TEXT, "maxLength": MAX_REASON_LENGTH, "description": "Shown to the public."},
        "occurred_on": {**_DATE, "description": "When the decision was changed, revoked or confirmed "
                        "illegal/invalid: withdrawing more than 3 working days later is warned."},
        "named_persons": _NAMED,
    },
})
WARNING = openapi.Schema("PublicationWarning", {
    "type": "object", "additionalProperties": False, "required": ["code", "detail", "deadline"],
    "properties": {"code": {"enum": ["published_late", "withdrawn_late"]}, "detail": {"type": "string"},
                   "deadline": {**_DATE, "description": "The last day the rule allowed."}},
})
MASKED = openapi.Schema("MaskedDatum", {
    "type": "object", "additionalProperties": False, "required": ["field", "kind", "start", "end"],
    "properties": {"field": {"type": "string"}, "kind": {"type": "string"},
                   "start": {"type": "integer"}, "end": {"type": "integer"}},
})
VERSION = openapi.Schema("PublicationVersion", {
    "type": "object", "additionalProperties": False,
    "required": ["version", "published_at", "public_until", "party", *FREE_TEXTS, "amount_fen",
                 "decision_date", "region_code", "masked", "warnings"],
    "properties": {
        "version": {"type": "integer", "minimum": 1}, "published_at": _TIME, "public_until": _TIME,
        "party": PARTY.ref(), **{name: {"type": "string"} for name in FREE_TEXTS},
        "amount_fen": {"type": ["integer", "null"]}, "decision_date": _DATE,
        "region_code": {"type": "string"},
        "masked": {"type": "array", "items": MASKED.ref()},
        "warnings": {"type": "array", "items": WARNING.ref()},
    },
}, uses=(PARTY, MASKED, WARNING))
WITHDRAWAL = openapi.Schema("PublicationWithdrawal", {
    "type": "object", "additionalProperties": False,
    "required": ["withdrawn_at", "ground", "reason", "occurred_on", "warnings"],
    "properties": {"withdrawn_at": _TIME, "ground": {"enum": [g.value for g in WithdrawalGround]},
                   "reason": {"type": "string"}, "occurred_on": {"type": ["string", "null"]},
                   "warnings": {"type": "array", "items": WARNING.ref()}},
}, uses=(WARNING,))
PUBLICATION = openapi.Schema("Publication", {
    "type": "object", "additionalProperties": False,
    "required": ["id", "kind", "agency_case_number", "status", "version", "first_published_at",
                 "published_at", "public_until", "minimum_public_until", "publicity_days",
                 "publicity_basis", "public_url", "versions", "withdrawal", "warnings"],
    "properties": {
        "id": {"type": "integer"}, "kind": {"enum": [k.value for k in Kind]},
        "agency_case_number": {"type": "string"},
        "status": {"enum": ["public", "withdrawn", "expired"]},
        "version": {"type": "integer", "description": "The current version, shown to the public."},
        "first_published_at": _TIME,
        "published_at": {**_TIME, "description": "When the current version was published: its "
                         "window starts here."},
        "public_until": {**_TIME, "description": "Exclusive end of the window: gone from every "
                         "public page, search and export from this instant."},
        "minimum_public_until": {**_TIME, "description": "Until then only an APL art. 48 ground "
                                 "allows a withdrawal."},
        "publicity_days": {"type": ["integer", "null"]}, "publicity_basis": {"type": ["string", "null"]},
        "public_url": {"type": "string"},
        "versions": {"type": "array", "items": VERSION.ref()},
        "withdrawal": {"oneOf": [WITHDRAWAL.ref(), {"type": "null"}]},
        "warnings": {"type": "array", "items": WARNING.ref(),
                     "description": "What this request's act missed (the act stands)."},
    },
}, uses=(VERSION, WITHDRAWAL, WARNING))
ID = openapi.PathParameter("publication_id", "The item's id.", {"type": "integer"})
_NOT_FOUND = openapi.problem("No such item for this agency (`not_found`).")
_BODY_REFUSALS = {
    413: openapi.problem("The body is larger than 64 KiB."),
    415: openapi.problem("The body is not application/json."),
    422: openapi.problem("`validation_failed`: `errors` maps each bad member to a code "
                         "(`required`, `invalid_choice`, `in_future`, `personal_data`, "
                         "`basis_required`, `out_of_range`, …)."),
}


@openapi.operation(
    "post", summary="Publish enforcement information", security="agency", body=openapi.Body(NEW),
    description="Masks personal data, stores the masked content as version 1 and makes it public "
                "for its window (FJ art. 8, 21).",
    replies={201: openapi.Reply("Published.", PUBLICATION, headers={"Location": "The item's URL."}),
             409: openapi.problem("`publication_exists`: this case number and kind are published "
                                  "(`publication_id` names it)."), **_BODY_REFUSALS},
)
@agency_endpoint
async def publish(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    submission = submission_from_json(await read_json(request, MAX_JSON_BYTES), new=True)
    item = await publications.publish(db, agency.agency_id, agency.actor, submission,
                                      await load_calendar(db), subjects=_subjects(request, submission),
                                      now=pinned_now(request))
    return _answer(request, item, status=201, headers={"location": f"/api/v1/publications/{item.id}"})


@openapi.operation(
    "get", summary="An item of the agency", security="agency", parameters=(ID,),
    description="The item with its status, window and every version it was published in.",
    replies={200: openapi.Reply("The item.", PUBLICATION), 404: _NOT_FOUND},
)
@agency_endpoint
async def get_publication(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    item = await publications.agency_view(db, agency.agency_id, _id(request),
                                          now=pinned_now(request))
    return _answer(request, item, warnings=False)


@openapi.operation(
    "put", summary="Publish a changed version", security="agency", parameters=(ID,),
    body=openapi.Body(CHANGE),
    description="Publishes the changed content as a new version; earlier versions are kept and "
                "the public page says the item was changed (FJ art. 21).",
    replies={200: openapi.Reply("The item with its new version.", PUBLICATION), 404: _NOT_FOUND,
             409: openapi.problem("`publication_withdrawn` or `publication_expired`."),
             **_BODY_REFUSALS},
)
@agency_endpoint
async def change_publication(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    submission = submission_from_json(await read_json(request, MAX_JSON_BYTES), new=False)
    item = await publications.republish(db, agency.agency_id, agency.actor,
                                        _id(request), submission, await load_calendar(db),
                                        subjects=_subjects(request, submission),
                                        now=pinned_now(request))
    return _answer(request, item)


@openapi.operation(
    "post", summary="Withdraw an item", security="agency", parameters=(ID,),
    body=openapi.Body(WITHDRAWAL_IN),
    description="Withdraws the item; the public then sees a withdrawal notice with the reason. "
                "Before 60 days of publicity only on an APL art. 48 ground.",
    replies={201: openapi.Reply("Withdrawn.", PUBLICATION), 404: _NOT_FOUND,
             409: openapi.problem("`withdrawal_too_early` (with `earliest_withdrawal` and "
                                  "`allowed_grounds`), `already_withdrawn`, `publication_expired`."),
             **_BODY_REFUSALS},
)
@agency_endpoint
async def withdraw_publication(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    body = await read_json(request, MAX_JSON_BYTES)
    ground, reason, occurred_on, named = _withdrawal(body)
    item = await publications.withdraw(
        db, agency.agency_id, agency.actor, _id(request), ground=ground,
        reason=reason, occurred_on=occurred_on, named_persons=named, calendar=await load_calendar(db),
        now=pinned_now(request))
    return _answer(request, item, status=201)


def _subjects(request: Request, submission: Submission) -> list[tuple[str, str]]:
    return publication_subjects.of(request.app.state.settings.secret_key, submission.concerned)


def _id(request: Request) -> int:
    """The path's item id; anything but digits names no item (checked after the bearer guard,
    so a request without a token is 401 whatever its path says)."""
    value = request.path_params["publication_id"]
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise NotFound()
    return int(value)


def _withdrawal(body: Any) -> tuple[WithdrawalGround, str, date | None, tuple[str, ...]]:
    read = fields.Reader(body, allowed=("ground", "reason", "occurred_on", "named_persons"))
    if "body" in read.errors:
        read.raise_errors()
    ground = read.choice("ground", list(WithdrawalGround))
    reason = read.text("reason", limit=MAX_REASON_LENGTH, multiline=True)
    occurred_on = read.day("occurred_on", earliest=fields.EARLIEST_DATE, latest=date.max, required=False)
    named = named_persons(read)
    read.raise_errors()
    if ground is None or reason is None:
        raise ValidationFailed({"ground" if ground is None else "reason": "required"})
    return ground, reason, occurred_on, named


def _answer(request: Request, item: AgencyPublication, *, status: int = 200, warnings: bool = True,
            headers: dict[str, str] | None = None) -> JSONResponse:
    current, withdrawal = item.versions[-1], item.withdrawal
    acts: tuple[Notice, ...] = ()
    if warnings:  # what this act missed: the withdrawal's, else the version's just published
        acts = withdrawal.warnings if withdrawal else current.warnings
    body = {
        "id": item.id, "kind": item.kind, "agency_case_number": item.agency_case_number,
        "status": item.status, "version": current.version,
        "first_published_at": instant_text(item.first_published_at),
        "published_at": instant_text(item.window.start), "public_until": instant_text(item.window.end),
        "minimum_public_until": instant_text(item.window.minimum_end),
        "publicity_days": item.period.days, "publicity_basis": item.period.basis,
        "public_url": f"{request.app.state.settings.public_url}/publicity/{item.id}",
        "versions": [_version(v) for v in item.versions],
        "withdrawal": None if withdrawal is None else {
            "withdrawn_at": instant_text(withdrawal.withdrawn_at), "ground": withdrawal.ground.value,
            "reason": withdrawal.reason,
            "occurred_on": withdrawal.occurred_on.isoformat() if withdrawal.occurred_on else None,
            "warnings": [_warning(w) for w in withdrawal.warnings]},
        "warnings": [_warning(w) for w in acts],
    }
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store", **(headers or {})})


def _version(version: VersionView) -> dict[str, Any]:
    content = version.content
    party: dict[str, Any] = {"kind": content.party_kind, "name": content.party_name}
    if content.credit_code:
        party["credit_code"] = content.credit_code
    return {
        "version": version.version, "published_at": instant_text(version.published_at),
        "public_until": instant_text(version.public_until), "party": party,
        "violation": content.violation, "legal_basis": content.legal_basis, "result": content.result,
        "amount_fen": content.amount_fen, "decision_date": content.decision_date.isoformat(),
        "region_code": content.region_code,
        "masked": [{"field": m.field, "kind": m.kind, "start": m.start, "end": m.end}
                   for m in content.masked],
        "warnings": [_warning(w) for w in version.warnings],
    }


def _warning(notice: Notice) -> dict[str, str]:
    return {"code": notice.code, "detail": notice.detail, "deadline": notice.deadline.isoformat()}
