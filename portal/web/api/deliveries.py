"""The delivery API: an agency serves a sealed document on a party of its case.

``POST /api/v1/cases/{case_code}/deliveries`` takes a multipart body (``document``: the sealed
PDF; ``metadata``: JSON with ``document_type``, ``title`` and ``party`` naming the party by
``id_number`` or ``credit_code``) and an optional ``Idempotency-Key`` header. In order:

1. the guard and the case lookup (another agency's case is 404), in a short transaction; an
   agency without a unified social credit code on record is refused here (409
   ``agency_credit_code_missing``): seals are matched by that code, never by name;
2. the agency seal is validated in a worker process, outside any transaction (the workers'
   fairness counts the API client, not its address: ``portal.web.client.api_client_key``), and
   ``portal.eservice.seals.delivery_seal`` decides whether a seal of this agency counts; if
   not, the answer is ``seal_invalid`` (or ``changed_after_seal``: the file shows more than
   was sealed) with the report;
3. one transaction: the Idempotency-Key replay check, the party (``party_not_in_case``), the
   consent in force (409 ``consent_required``/``consent_revoked``: serve on paper), and the
   arrival (``services.deliveries.deliver``). The 201 carries the service time.

Refusals store nothing. ``GET /api/v1/deliveries/{id}`` and ``…/receipt`` give the state and
the service receipt (送达回证) once the worker has issued it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal import fields
from portal.database import transaction
from portal.errors import Conflict, Unprocessable, ValidationFailed
from portal.eservice.seals import ServingAgency, agency_refusal, delivery_seal
from portal.models.eservice import Delivery
from portal.services import cases, deliveries, delivery_views, served_fines
from portal.services.api_tokens import AgencyPrincipal
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint, require_agency
from portal.web.client import api_client_key
from portal.web.downloads import pdf_attachment

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

_TIME = {"type": "string", "format": "date-time"}
DELIVERY = openapi.Schema("Delivery", {
    "type": "object",
    "required": ["delivery_id", "case_code", "document_type", "title", "document_sha256",
                 "service_time", "service_time_china", "arrival_event_hash", "consent",
                 "read_at", "paper_copy_requested_at", "timestamp", "receipt"],
    "properties": {
        "delivery_id": {"type": "string"},
        "case_code": {"type": "string"},
        "document_type": {"type": "string"},
        "title": {"type": "string"},
        "document_sha256": {"type": "string"},
        "service_time": {**_TIME, "description": "The arrival in the party's mailbox (UTC, "
                                                  "microseconds): the legal service time."},
        "service_time_china": {"type": "string", "description": "The same instant in China time."},
        "arrival_event_hash": {"type": "string"},
        "consent": {"type": "object", "required": ["signed_at", "event_hash"],
                    "properties": {"signed_at": _TIME, "event_hash": {"type": "string"}}},
        "read_at": {"oneOf": [_TIME, {"type": "null"}]},
        "paper_copy_requested_at": {"oneOf": [_TIME, {"type": "null"}]},
        "timestamp": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["gen_time", "tsa"],
            "properties": {"gen_time": _TIME, "tsa": {"type": "string"}}}]},
        "receipt": {"type": "object", "required": ["status", "url"],
                    "properties": {"status": {"enum": ["pending", "issued"]},
                                   "url": {"type": "string"}}},
    },
})
NEW_DELIVERY = openapi.Schema("NewDelivery", {
    "type": "object",
    "required": ["document", "metadata"],
    "properties": {
        "document": {"type": "string", "format": "binary",
                     "description": "The PDF, sealed with the agency's e-seal (at most 20 MB)."},
        "metadata": {"type": "string", "description": (
            'JSON: {"document_type": one of ' + "、".join(deliveries.DOCUMENT_TYPES)
            + ', "title": "…", "party": {"id_number": "…"} or {"credit_code": "…"}}')},
    },
})
PDF = openapi.Schema("PdfDocument", {"type": "string", "format": "binary"})
CASE_CODE = openapi.PathParameter("case_code", "The case code (without hyphens).")
DELIVERY_ID = openapi.PathParameter("delivery_id", "The delivery id from the 201 answer.")


@openapi.operation(
    "post", summary="Serve a sealed document on a party",
    description="Delivers the document to the party's portal mailbox; its arrival is the "
                "service time. Send an `Idempotency-Key` header to make retries safe: the same "
                "key returns the same delivery (a retry sent while the first attempt is still "
                "running waits for it), a different body with the same key is 422 "
                "`idempotency_key_reused`.",
    security="agency", parameters=(CASE_CODE,),
    body=openapi.Body(NEW_DELIVERY, "multipart/form-data"),
    replies={
        201: openapi.Reply("Delivered: the document arrived in the mailbox.", DELIVERY),
        404: openapi.problem("No such case for this agency (`not_found`)."),
        409: openapi.problem("No consent to e-service in force for this agency "
                             "(`consent_required`, `consent_revoked`): serve by another means; "
                             "or the agency has no unified social credit code on record "
                             "(`agency_credit_code_missing`), so no seal can be matched to it."),
        422: openapi.problem("`validation_failed`, `party_not_in_case`, `seal_invalid` and "
                             "`changed_after_seal` (with the validation `report`), "
                             "`idempotency_key_reused`."),
    },
)
async def create_delivery(request: Request) -> Response:
    async with transaction(request.app.state.sessions) as db:
        agency = await require_agency(request, db)
        case = await cases.case_for_agency(db, agency.agency_id, request.path_params["case_code"])
    serving = ServingAgency(agency.agency_name, agency.agency_credit_code)
    unidentified = agency_refusal(serving)
    if unidentified is not None:  # no seal can be its: refused before reading the file
        raise Conflict(code=unidentified.code)
    document, meta = await _parse(request)
    # fairness per API client, not per address: agencies share gateways (portal.web.client)
    report = await request.app.state.notary.verify(
        document, client=api_client_key(request, agency.client_id))
    refusal = delivery_seal(report, serving).refusal
    if refusal is not None:
        raise Unprocessable(refusal.code, extra={"report": report.to_json_dict()})
    delivery_request = deliveries.DeliveryRequest(meta["document_type"], meta["title"], document,
                                                  request.headers.get("idempotency-key") or None)
    fingerprint = delivery_request.fingerprint(case.code, meta["party_key"])
    async with transaction(request.app.state.sessions) as db:
        earlier = await deliveries.replay(db, agency.agency_id, delivery_request, fingerprint)
        if earlier is None:
            party = await deliveries.party_of_case(db, case.id, meta["party_key"])
            view = await deliveries.arrive(db, request.app.state.blobs, case=case, party=party,
                                           request=delivery_request, fingerprint=fingerprint,
                                           actor=agency.actor, renderer=request.app.state.renderer)
            await served_fines.make_payable(db, case)
        else:
            view = await delivery_views.agency_view(db, earlier)
    return JSONResponse(view.to_json(), status_code=201, headers={"cache-control": "no-store"})


@openapi.operation(
    "get", summary="A delivery's state", security="agency", parameters=(DELIVERY_ID,),
    description="Service time, consent relied on, read and paper-copy requests, the RFC 3161 "
                "timestamp of the arrival and whether the service receipt is issued.",
    replies={200: openapi.Reply("The delivery.", DELIVERY),
             404: openapi.problem("No such delivery for this agency (`not_found`).")},
)
@agency_endpoint
async def get_delivery(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    delivery = await deliveries.delivery_for_agency(db, agency.agency_id,
                                                    request.path_params["delivery_id"])
    return JSONResponse(await _body(db, delivery), headers={"cache-control": "no-store"})


@openapi.operation(
    "get", summary="The service receipt (送达回证)", security="agency", parameters=(DELIVERY_ID,),
    description="The PDF sealed and timestamped by the portal. 409 `receipt_pending` (with "
                "Retry-After) until the worker has issued it, usually within seconds.",
    replies={200: openapi.Reply("The receipt.", PDF, "application/pdf"),
             404: openapi.problem("No such delivery for this agency (`not_found`)."),
             409: openapi.problem("Not issued yet (`receipt_pending`).", **{"Retry-After": "seconds"})},
)
@agency_endpoint
async def get_receipt(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    delivery = await deliveries.delivery_for_agency(db, agency.agency_id,
                                                    request.path_params["delivery_id"])
    data = await delivery_views.receipt_pdf(db, request.app.state.blobs, delivery)
    return pdf_attachment(data, f"送达回证-{delivery.public_id}.pdf")


async def _parse(request: Request) -> tuple[bytes, dict[str, str]]:
    """The document and the checked metadata, or ``ValidationFailed`` naming each problem."""
    form = await request.form(max_files=1, max_fields=2)
    try:
        upload, raw_meta = form.get("document"), form.get("metadata")
        errors: dict[str, str] = {}
        document = b""
        if not isinstance(upload, UploadFile):
            errors["document"] = "document_missing"
        else:
            document = await upload.read(MAX_DOCUMENT_BYTES + 1)
            if len(document) > MAX_DOCUMENT_BYTES:
                errors["document"] = "document_too_large"
            elif not document.startswith(b"%PDF-"):
                errors["document"] = "not_pdf"
        meta = _metadata(raw_meta, errors)
    finally:
        await form.close()
    if errors:
        raise ValidationFailed(errors)
    return document, meta


def _metadata(raw: object, errors: dict[str, str]) -> dict[str, str]:
    try:
        data: Any = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        errors["metadata"] = "metadata_not_json_object"
        return {}
    read = fields.Reader(data, errors=errors)
    document_type = read.choice("document_type", deliveries.DOCUMENT_TYPES)
    title = read.text("title", limit=200)
    return {"document_type": document_type or "", "title": title or "",
            "party_key": read.party_key("party") or ""}


async def _body(db: AsyncSession, delivery: Delivery) -> dict[str, Any]:
    view = await delivery_views.agency_view(db, delivery)
    return view.to_json()
