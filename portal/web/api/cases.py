"""The case API: an agency registers its cases, records their stages and prints their QR codes.

    POST /api/v1/cases                         register a case (201: code, display form, QR URL)
    GET  /api/v1/cases/{case_code}             the case, its events and its deadlines
    POST /api/v1/cases/{case_code}/events      record a stage event (order rules: cases.rules)
    GET  /api/v1/cases/{case_code}/qr.png|svg  the QR code of the case's public page

Routes are thin: parse (``portal.cases.intake``, ``portal.cases.events``), call
``services.cases`` (which filters by the calling agency: another agency's case is 404 like a
missing one, ASVS v5.0.0-8.4.1), answer JSON. Validation refusals are 422 problem details whose
``errors`` map each bad member's path to a stable code (``invalid_id_number``,
``invalid_credit_code``, ``required``, …). The event schemas are generated from
``cases.events.SPECS``, so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.cases import codes as case_codes
from portal.cases.deadlines import CaseDeadline
from portal.cases.events import (
    AGENCY_KINDS,
    MAX_INSTALMENTS,
    MIN_INSTALMENTS,
    SPECS,
    EventKind,
    Field,
    StageEvent,
    current_stage,
)
from portal.cases.intake import new_case_from_json
from portal.catalogue import DELEGATION
from portal.catalogue import errors as error_words
from portal.errors import NotFound, ValidationFailed
from portal.evidence_hash import instant_text
from portal.models.cases import Case
from portal.services import authorisations, case_followups, cases, served_fines
from portal.services.api_tokens import AgencyPrincipal
from portal.services.calendar import load_calendar
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint
from portal.web.api.bodies import read_json
from portal.web.api.submissions import PDF
from portal.web.downloads import pdf_attachment

MAX_JSON_BYTES = 64 * 1024

_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}
_TEXT = {"type": "string", "minLength": 1}
_INSTALMENT = {"type": "object", "additionalProperties": False, "required": ["due_date", "amount_fen"],
               "properties": {"due_date": _DATE,
                              "amount_fen": {"type": "integer", "minimum": 1,
                                             "description": "An amount in fen (0.01 yuan)."}}}
_FIELD_TYPES: dict[str, dict[str, Any]] = {
    "text": _TEXT, "instant": _TIME, "date": _DATE, "bool": {"type": "boolean"},
    "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
    "fen": {"type": "integer", "minimum": 0, "description": "An amount in fen (0.01 yuan)."},
    "remedy_body": {**_TEXT, "maxLength": 100, "description": "APL art. 59(6): the body that hears an "
                    "administrative reconsideration (a people's government or the department "
                    "above), ending in 人民政府, 局, 厅, 署, 部, 委员会, 海关 or 办公室. Without it the "
                    "answer warns `remedies_missing`."},
    "court": {**_TEXT, "maxLength": 100, "description": "APL art. 59(6): the people's court for a "
              "lawsuit (ends in 人民法院). Without it the answer warns `remedies_missing`."},
    "schedule": {
        "type": "array", "minItems": MIN_INSTALMENTS, "maxItems": MAX_INSTALMENTS,
        "description": "Instalments (APL art. 66), due dates (China dates) strictly increasing; "
                       "the amounts add up to the decision's `fine_fen`.",
        "items": _INSTALMENT,
    },
}


def _field_schema(field: Field) -> dict[str, Any]:
    if field.type == "choice":
        return {"enum": list(field.choices)}
    schema = dict(_FIELD_TYPES[field.type])
    if field.type == "text":
        schema["maxLength"] = field.max_length
    return schema


def _event_body(kind: EventKind) -> dict[str, Any]:
    fields = SPECS[kind]
    return {
        "type": "object", "required": ["kind"], "additionalProperties": False,
        "properties": {
            "kind": {"const": kind.value},
            "data": {"type": "object", "additionalProperties": False,
                     "required": [f.name for f in fields if f.required],
                     "properties": {f.name: _field_schema(f) for f in fields}},
        },
    }


PARTY = openapi.Schema("CaseParty", {
    "type": "object", "required": ["kind", "name"], "additionalProperties": False,
    "description": "A person by resident ID number, or an organisation by unified social credit "
                   "code; check characters are verified.",
    "properties": {
        "kind": {"enum": ["person", "organisation"]}, "name": {**_TEXT, "maxLength": 200},
        "id_number": {"type": "string", "description": "For a person (GB 11643)."},
        "credit_code": {"type": "string", "description": "For an organisation (GB 32100)."},
    },
})
OFFICER = openapi.Schema("CaseOfficer", {
    "type": "object", "required": ["name", "credential_number"], "additionalProperties": False,
    "properties": {"name": {**_TEXT, "maxLength": 50},
                   "credential_number": {**_TEXT, "maxLength": 50,
                                         "description": "Enforcement credential (APL art. 55)."}},
})
NEW_CASE = openapi.Schema("NewCase", {
    "type": "object", "additionalProperties": False,
    "required": ["agency_case_number", "case_type", "matter", "hearing_right",
                 "electronic_monitoring", "parties", "officers"],
    "properties": {
        "agency_case_number": {**_TEXT, "maxLength": 100,
                               "description": "The agency's own case number, unique per agency."},
        "case_type": {**_TEXT, "maxLength": 40, "description": "e.g. 行政处罚."},
        "matter": {**_TEXT, "maxLength": 500, "description": "案由: shown to the parties only."},
        "hearing_right": {"type": "boolean", "description": "Whether APL art. 63 applies."},
        "electronic_monitoring": {"type": "boolean", "description": "Caught by an electronic "
                                  "monitoring device (APL art. 41)."},
        "parties": {"type": "array", "minItems": 1, "maxItems": 20, "items": PARTY.ref()},
        "officers": {"type": "array", "minItems": 2, "maxItems": 10, "items": OFFICER.ref(),
                     "description": "At least two enforcement officers (APL art. 42)."},
    },
}, uses=(PARTY, OFFICER))
REGISTERED = openapi.Schema("CaseRegistered", {
    "type": "object", "additionalProperties": False,
    "required": ["code", "display_code", "qr_url", "qr_png", "qr_svg"],
    "properties": {
        "code": {"type": "string", "pattern": "^[0-9A-Z]{13}$"},
        "display_code": {"type": "string", "description": "The code in groups, for printing."},
        "qr_url": {"type": "string", "description": "What the case's QR code encodes: the public "
                                                    "status page with its token."},
        "qr_png": {"type": "string"}, "qr_svg": {"type": "string"},
    },
})
NEW_EVENT = openapi.Schema("NewCaseEvent", {
    "description": "One stage event. `data.occurred_at` (RFC 3339 with an offset) is when it "
                   "happened, default now; it may not precede earlier events. The prior notice's "
                   "`informed_at` starts the statement and hearing-request windows; the "
                   "decision's `served_at` starts payment and remedy periods. "
                   "`instalments_approved` (APL art. 66) sets the fine's instalments; it and a "
                   "`window_extended` of `payment` (a deferral) replace each other: the latest "
                   "applies.",
    "oneOf": [_event_body(kind) for kind in AGENCY_KINDS],
})
EVENT = openapi.Schema("CaseEvent", {
    "type": "object", "additionalProperties": False,
    "required": ["seq", "kind", "occurred_at", "recorded_at", "data"],
    "properties": {"seq": {"type": "integer", "minimum": 1},
                   "kind": {"enum": [kind.value for kind in EventKind]},
                   "occurred_at": _TIME, "recorded_at": _TIME, "data": {"type": "object"}},
})
EVENT_WARNING = openapi.Schema("CaseEventWarning", {
    "type": "object", "additionalProperties": True, "required": ["code", "detail"],
    "description": "`remedies_missing` (APL art. 59(6)): a decision without `reconsideration_body` "
                   "or `court`; the party sees the periods without them. "
                   "`hearing_notice_short` (APL art. 64(2), 85): the party, told of the hearing "
                   "through the portal as the event is recorded, may have fewer than 7 working days "
                   "before it (`working_days_before_hearing`; `certain_notice_date` when the year's "
                   "holiday arrangement is not loaded). The event is recorded and the party notified.",
    "properties": {"code": {"enum": ["hearing_notice_short", "remedies_missing"]},
                   "detail": {"type": "string"},
                   "fields": {"type": "array", "items": {"type": "string"},
                              "description": "`remedies_missing`: the decision's fields not given."},
                   "hearing_date": _DATE, "latest_notice_date": _DATE, "certain_notice_date": _DATE,
                   "working_days_before_hearing": {"type": "integer", "minimum": 0},
                   "fallback_years": {"type": "array", "items": {"type": "integer"}},
                   "notified_through_portal_at": _TIME},
})
RECORDED_EVENT = openapi.Schema("RecordedCaseEvent", {
    "type": "object", "additionalProperties": False,
    "required": ["seq", "kind", "occurred_at", "recorded_at", "data", "warnings"],
    "properties": {"seq": {"type": "integer", "minimum": 1},
                   "kind": {"enum": [kind.value for kind in EventKind]},
                   "occurred_at": _TIME, "recorded_at": _TIME, "data": {"type": "object"},
                   "warnings": {"type": "array", "items": EVENT_WARNING.ref()}},
}, uses=(EVENT_WARNING,))
DEADLINE = openapi.Schema("CaseDeadline", {
    "type": "object", "additionalProperties": False,
    "required": ["party", "kind", "label", "binds", "last_day", "ends_at", "statutory_last_day",
                 "extended", "instalments", "explanation", "basis", "fallback_years",
                 "fallback_warning", "latest_possible_last_day", "venue"],
    "properties": {
        "party": {"type": "integer", "minimum": 0,
                  "description": "Whose deadline: the index of the party in `parties`. Each party's "
                                 "periods run from when that party was served (through the portal, "
                                 "the arrival in its mailbox), so they may differ between parties."},
        "kind": {"type": "string"}, "label": {"type": "string"},
        "binds": {"enum": ["party", "agency"]},
        "last_day": _DATE, "ends_at": {**_TIME, "description": "Exclusive: 24:00 China time."},
        "statutory_last_day": _DATE, "extended": {"type": "boolean"},
        "instalments": {"oneOf": [{"type": "array", "items": _INSTALMENT}, {"type": "null"}],
                        "description": "The approved instalment plan of the payment deadline "
                                       "(APL art. 66), else null; `last_day` is then the last "
                                       "instalment's due date."},
        "explanation": {"type": "string"}, "basis": {"type": "string"},
        "fallback_years": {"type": "array", "items": {"type": "integer"},
                           "description": "Years counted on the fallback (weekends and fixed "
                                          "statutory holidays; the year's arrangement not loaded)."},
        "fallback_warning": {"type": ["string", "null"], "description": "What the party is told."},
        "latest_possible_last_day": {"oneOf": [_DATE, {"type": "null"}],
                                     "description": "Counted on the fallback: the latest last day any "
                                                    "arrangement could give. Until then the party's "
                                                    "act is not refused as late and no decision may "
                                                    "be recorded (LAW.md, counting days)."},
        "venue": {"type": ["string", "null"],
                  "description": "For reconsideration and lawsuit: the body or court the decision "
                                 "named (APL art. 59(6))."},
    },
})
REPRESENTATIVE = openapi.Schema("CaseRepresentative", {
    "type": "object", "additionalProperties": False,
    "required": ["party", "name", "id_number", "source", "since", "last_day", "authorisation"],
    "description": "Someone who may act for a party now (APL art. 64(3)): the organisation's agent "
                   "the identity platform vouches for, or a person the party authorised on the "
                   "portal to act for it (read-only delegates are not listed).",
    "properties": {
        "party": {"type": "integer", "minimum": 0, "description": "The index of the party in `parties`."},
        "name": {"type": "string"}, "id_number": {"type": "string"},
        "source": {"enum": ["identity_provider", "delegation"]},
        "since": _TIME,
        "last_day": {"oneOf": [_DATE, {"type": "null"}],
                     "description": "The last day the authority holds (24:00 China time); null: "
                                    "as long as the identity platform says."},
        "authorisation": {"oneOf": [{"type": "null"}, {
            "type": "object", "additionalProperties": False, "required": ["signed_at", "sha256", "url"],
            "properties": {"signed_at": _TIME, "sha256": {"type": "string"}, "url": {"type": "string"}}}],
            "description": "The power of attorney (授权委托书) the party signed with its electronic "
                           "signature, if it did: a PAdES-signed PDF."},
    },
})
CASE = openapi.Schema("Case", {
    "type": "object", "additionalProperties": False,
    "required": ["code", "display_code", "qr_url", "agency_case_number", "case_type", "matter",
                 "hearing_right", "electronic_monitoring", "registered_at", "stage", "parties",
                 "officers", "events", "deadlines", "representatives", "unreadable_deadlines"],
    "properties": {
        "code": {"type": "string"}, "display_code": {"type": "string"}, "qr_url": {"type": "string"},
        "agency_case_number": {"type": "string"}, "case_type": {"type": "string"},
        "matter": {"type": "string"}, "hearing_right": {"type": "boolean"},
        "electronic_monitoring": {"type": "boolean"}, "registered_at": _TIME,
        "stage": {"enum": [kind.value for kind in EventKind]},
        "parties": {"type": "array", "items": PARTY.ref()},
        "officers": {"type": "array", "items": OFFICER.ref()},
        "events": {"type": "array", "items": EVENT.ref()},
        "deadlines": {"type": "array", "items": DEADLINE.ref()},
        "representatives": {"type": "array", "items": REPRESENTATIVE.ref()},
        "unreadable_deadlines": {
            "type": "array", "description": "Deadlines left out of `deadlines`: a stored date of the "
            "case lies beyond any calendar (recorded before dates were bounded). Correct it with a "
            "new event.",
            "items": {"type": "object", "additionalProperties": False, "required": ["party", "kind"],
                      "properties": {"party": {"type": "integer", "minimum": 0},
                                     "kind": {"type": "string"}}}},
    },
}, uses=(PARTY, OFFICER, EVENT, DEADLINE, REPRESENTATIVE))
PNG = openapi.Schema("PngImage", {"type": "string", "contentMediaType": "image/png"})
SVG = openapi.Schema("SvgImage", {"type": "string", "contentMediaType": "image/svg+xml"})
CASE_CODE = openapi.PathParameter("case_code", "The case code, with or without hyphens.")
_NOT_FOUND = openapi.problem("No such case for this agency (`not_found`).")


@openapi.operation(
    "post", summary="Register a case", security="agency",
    description="Registers a case with its parties and officers and returns its code and the "
                "URL its QR code encodes. Parties are matched by ID number or credit code.",
    body=openapi.Body(NEW_CASE),
    replies={201: openapi.Reply("The case is registered.", REGISTERED,
                                headers={"Location": "The case's URL in this API."}),
             409: openapi.problem("This agency already registered the case number (`case_exists`)."),
             413: openapi.problem("The body is larger than 64 KiB."),
             415: openapi.problem("The body is not application/json."),
             422: openapi.problem("`validation_failed`: `errors` maps each bad member to a code.")},
)
@agency_endpoint
async def register_case(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    new_case = new_case_from_json(await read_json(request, MAX_JSON_BYTES))
    case = await cases.register_case(db, agency.agency_id, new_case)
    url = f"/api/v1/cases/{case.code}"
    return JSONResponse({
        "code": case.code, "display_code": case_codes.display(case.code),
        "qr_url": _qr_url(request, case), "qr_png": f"{url}/qr.png", "qr_svg": f"{url}/qr.svg",
    }, status_code=201, headers={"location": url, "cache-control": "no-store"})


@openapi.operation(
    "get", summary="A case of the agency", security="agency", parameters=(CASE_CODE,),
    description="The case with its parties, officers, events and every running deadline of "
                "each party with how it was counted. Another agency's case answers 404.",
    replies={200: openapi.Reply("The case.", CASE), 404: _NOT_FOUND},
)
@agency_endpoint
async def get_case(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    case = await cases.case_for_agency(db, agency.agency_id, request.path_params["case_code"])
    events = await cases.case_events(db, case)
    parties = await cases.parties(db, case)
    calendar = await load_calendar(db)
    deadlines = [(index, deadline) for index, party in enumerate(parties)
                 for deadline in await cases.deadlines(db, case, party.id, calendar, events)]
    unreadable = [{"party": index, "kind": kind.value} for index, party in enumerate(parties)
                  for kind in await cases.unreadable(db, case, party.id, calendar, events)]
    return _no_store({
        "code": case.code, "display_code": case_codes.display(case.code),
        "qr_url": _qr_url(request, case), "agency_case_number": case.agency_case_number,
        "case_type": case.case_type, "matter": case.matter, "hearing_right": case.hearing_right,
        "electronic_monitoring": case.electronic_monitoring,
        "registered_at": instant_text(case.registered_at), "stage": current_stage(events).value,
        "parties": [{"kind": p.kind, "name": p.name,
                     **({"id_number": p.id_number} if p.id_number else {"credit_code": p.credit_code})}
                    for p in parties],
        "officers": [{"name": o.name, "credential_number": o.credential_number}
                     for o in await cases.officers(db, case)],
        "events": [_event(event) for event in events],
        "deadlines": [_deadline(index, deadline) for index, deadline in deadlines],
        "representatives": [_representative(case, r) for r in await authorisations.representatives(db, case)],
        "unreadable_deadlines": unreadable,
    })


@openapi.operation(
    "get", summary="A representative's signed power of attorney", security="agency",
    parameters=(CASE_CODE, openapi.PathParameter("representation_id", "The `authorisation.url`'s id.")),
    description="The 授权委托书 a party of the case signed for someone who may act for it now "
                "(APL art. 64(3)): a PDF with the party's electronic signature, to verify with any "
                "PAdES validator. 404 when the case is not the agency's, the person no longer "
                "represents a party of it, or no power of attorney was signed.",
    replies={200: openapi.Reply("The signed PDF.", PDF, "application/pdf"), 404: _NOT_FOUND},
)
@agency_endpoint
async def get_authorisation(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    case = await cases.case_for_agency(db, agency.agency_id, request.path_params["case_code"])
    raw = request.path_params["representation_id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise NotFound()
    digest = await authorisations.document_for_agency(db, case, int(raw))
    data = await request.app.state.blobs.get(digest)
    return pdf_attachment(data, DELEGATION["authorisation.document_name"].format(id=raw))


@openapi.operation(
    "post", summary="Record a stage event", security="agency", parameters=(CASE_CODE,),
    description="Appends an event to the case's tamper-evident history after checking the "
                "order rules: e.g. no decision without a prior notice or before the party's "
                "windows ran out (APL art. 44, 45, 62, 64), a hearing notified at least 7 working "
                "days ahead (art. 64(2)), nothing after `closed`. A `decided` event with a fine "
                "and a `served_at` (or a 行政处罚决定书 already served through the portal) makes "
                "the fine payable for a single-party case: it appears under `GET /api/v1/fines` "
                "as if `POST /api/v1/fines` had been called, and that call answers it.",
    body=openapi.Body(NEW_EVENT),
    replies={201: openapi.Reply("The event as recorded, with any warnings.", RECORDED_EVENT),
             404: _NOT_FOUND,
             409: openapi.problem("The case's state forbids it: `case_closed`, `notice_required`, "
                                  "`rights_window_open`, `already_decided`, `decision_required`, "
                                  "`decision_without_fine`, … (see `title`)."),
             413: openapi.problem("The body is larger than 64 KiB."),
             415: openapi.problem("The body is not application/json."),
             422: openapi.problem("`validation_failed` (field codes in `errors`), "
                                  "`hearing_notice_too_late` (with `latest_notice_date`), "
                                  "`extension_not_later`, `occurred_out_of_order`, "
                                  "`instalments_total_mismatch` (with `fine_fen` and "
                                  "`instalments_total_fen`), `instalment_before_approval`, …")},
)
@agency_endpoint
async def add_event(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    case = await cases.case_for_agency(db, agency.agency_id, request.path_params["case_code"])
    body = await read_json(request, MAX_JSON_BYTES)
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "invalid_type"})
    errors = {name: "unknown_field" for name in body if name not in ("kind", "data")}
    kind, data = body.get("kind"), body.get("data", {})
    if not isinstance(kind, str):
        errors["kind"] = "required" if kind is None else "invalid_type"
    elif errors and kind not in AGENCY_KINDS:
        errors["kind"] = "unknown_kind"
    if not isinstance(data, dict):
        errors["data"] = "invalid_type"
    if errors or not isinstance(kind, str) or not isinstance(data, dict):
        raise ValidationFailed(errors)
    recorded = await case_followups.record_event(db, case, kind, data, agency.actor,
                                                 renderer=request.app.state.renderer)
    await served_fines.make_payable(db, case)
    return _no_store({**_event(recorded.event), "warnings": [
        {"code": warning.code, "detail": error_words.title(warning.code), **warning.data}
        for warning in recorded.warnings]}, status=201)


@openapi.operation(
    "get", summary="The case's QR code (PNG)", security="agency", parameters=(CASE_CODE,),
    description="A PNG of the QR code to print on the case's documents (FJ art. 29).",
    replies={200: openapi.Reply("The QR code.", PNG, "image/png"), 404: _NOT_FOUND},
)
@agency_endpoint
async def qr_png(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    return await _qr(request, db, agency, case_codes.qr_png, "image/png")


@openapi.operation(
    "get", summary="The case's QR code (SVG)", security="agency", parameters=(CASE_CODE,),
    description="An SVG of the QR code, for print at any size.",
    replies={200: openapi.Reply("The QR code.", SVG, "image/svg+xml"), 404: _NOT_FOUND},
)
@agency_endpoint
async def qr_svg(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    return await _qr(request, db, agency, case_codes.qr_svg, "image/svg+xml")


async def _qr(request: Request, db: AsyncSession, agency: AgencyPrincipal,
              draw: Callable[[str], bytes], media_type: str) -> Response:
    case = await cases.case_for_agency(db, agency.agency_id, request.path_params["case_code"])
    return Response(draw(_qr_url(request, case)), media_type=media_type,
                    headers={"cache-control": "no-store"})


def _qr_url(request: Request, case: Case) -> str:
    settings = request.app.state.settings
    return case_codes.case_url(settings.public_url, settings.key_text("case_qr"), case.code)


def _event(event: StageEvent) -> dict[str, Any]:
    return {"seq": event.seq, "kind": event.kind.value, "occurred_at": instant_text(event.at),
            "recorded_at": instant_text(event.recorded_at), "data": dict(event.data)}


def _deadline(party: int, deadline: CaseDeadline) -> dict[str, Any]:
    return {
        "party": party,
        "kind": deadline.kind.value, "label": deadline.label,
        "binds": "party" if deadline.party else "agency",
        "last_day": deadline.last_day.isoformat(), "ends_at": instant_text(deadline.ends_at_utc),
        "statutory_last_day": deadline.statutory_last_day.isoformat(),
        "extended": deadline.extension is not None,
        "instalments": [{"due_date": i.due_date.isoformat(), "amount_fen": i.amount_fen}
                        for i in deadline.plan.instalments] if deadline.plan else None,
        "explanation": deadline.explain(),
        "basis": deadline.basis, "fallback_years": list(deadline.fallback_years),
        "fallback_warning": deadline.fallback_warning,
        "latest_possible_last_day": deadline.latest_last_day.isoformat() if deadline.uncertain else None,
        "venue": deadline.venue,
    }


def _representative(case: Case, found: authorisations.Representative) -> dict[str, Any]:
    signed = found.authorisation
    return {"party": found.party_index, "name": found.name, "id_number": found.id_number,
            "source": found.source, "since": instant_text(found.since),
            "last_day": found.last_day.isoformat() if found.last_day else None,
            "authorisation": {
                "signed_at": instant_text(signed.signed_at), "sha256": signed.document_sha256,
                "url": f"/api/v1/cases/{case.code}/representatives/{found.representation_id}"
                       "/authorisation.pdf",
            } if signed else None}


def _no_store(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})
