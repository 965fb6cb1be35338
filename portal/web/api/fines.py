"""The fines API: an agency makes a served decision's fine payable and follows its payment.

    POST /api/v1/fines                        create the fine (201; the same body again: 200)
    GET  /api/v1/fines/{fine_id}              state, amount due today, payments, receipts
    POST /api/v1/fines/{fine_id}/refunds      report that a payment was refunded
    GET  /api/v1/reconciliations/{day}        the latest reconciliation of a China date

A fine names its service either as ``delivery_id`` (a 行政处罚决定书 this agency served through
the portal: its arrival is the service time) or as ``served_on`` with ``case_code`` and
``party`` (a decision served otherwise, on a date the agency states). The due date is computed
by the legal calendar (15 days, holiday rule; APL art. 67) and returned with how. Amounts are
integer fen. Another agency's fine is 404 (ASVS v5.0.0-8.4.1). Routes are thin: parse, call
``services.fines`` / ``fine_views`` / ``payment_orders`` / ``reconciliations``, answer JSON
(``web.api.fine_json``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal import fields
from portal.errors import NotFound
from portal.legal_calendar import china_date
from portal.models.payments import Fine
from portal.services import fine_views, fines, payment_orders, reconciliations
from portal.services.api_tokens import AgencyPrincipal
from portal.web.api import fine_json, openapi
from portal.web.api.bearer import agency_endpoint
from portal.web.api.bodies import read_json
from portal.web.clock import request_now

MAX_JSON_BYTES = 16 * 1024
_TEXT = {"type": "string", "minLength": 1}

FINE_ID = openapi.PathParameter("fine_id", "The fine id from the 201 answer.")
DAY = openapi.PathParameter("day", "A China date, YYYY-MM-DD.", {"type": "string", "format": "date"})


@openapi.operation(
    "post", summary="Make a served decision's fine payable", security="agency", tag="payments",
    description="For a 行政处罚决定书 served through the portal (`delivery_id`) or served otherwise "
                "on a date the agency states (`served_on` with `case_code` and `party`). The due "
                "date is 15 days after service, moved to the next working day when it falls on a "
                "rest day (APL art. 67, 85). The same body again answers the same fine (200).",
    body=openapi.Body(fine_json.NEW_FINE),
    replies={
        201: openapi.Reply("Created: the fine with its payment code and due date.", fine_json.FINE),
        200: openapi.Reply("This fine was created before with the same content.", fine_json.FINE),
        404: openapi.problem("No such case for this agency (`not_found`)."),
        409: openapi.problem("`fine_exists`: a different fine for the same decision number."),
        422: openapi.problem("`validation_failed`, `unknown_delivery`, `not_a_decision`, "
                             "`delivery_case_mismatch`, `service_in_future`, `party_not_in_case`."),
    },
)
@agency_endpoint
async def create_fine(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    data = _new_fine(await read_json(request, MAX_JSON_BYTES))
    fine, created = await fines.create_fine(db, agency.agency_id, data, actor=agency.actor)
    return await _fine_answer(request, db, fine, request_now(request), status=201 if created else 200)


@openapi.operation(
    "get", summary="A fine: state, amount due today, payments, receipts", security="agency",
    tag="payments", parameters=(FINE_ID,),
    description="`amount_due_today_fen` is valid until 24:00 China time today. `payments` lists "
                "every payment the platform confirmed, including second payments flagged "
                "`refund_required`; `receipts` the fiscal e-receipts (and red-letter reversals).",
    replies={200: openapi.Reply("The fine.", fine_json.FINE),
             404: openapi.problem("No such fine for this agency (`not_found`).")},
)
@agency_endpoint
async def get_fine(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    fine = await fines.fine_for_agency(db, agency.agency_id, request.path_params["fine_id"])
    return await _fine_answer(request, db, fine, request_now(request))


@openapi.operation(
    "post", summary="Report a refund of a payment", security="agency", tag="payments",
    parameters=(FINE_ID,), body=openapi.Body(fine_json.NEW_REFUND),
    description="The platform refunded the payment `platform_serial` (a double payment flagged "
                "`refund_required`, or the payment of a changed decision). A payment that had a "
                "fiscal e-receipt gets a red-letter reversal receipt referencing it.",
    replies={200: openapi.Reply("The fine after the refund.", fine_json.FINE),
             404: openapi.problem("No such fine for this agency (`not_found`)."),
             409: openapi.problem("`already_refunded` with another refund serial."),
             422: openapi.problem("`validation_failed`, `unknown_payment`.")},
)
@agency_endpoint
async def report_refund(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    read = fields.Reader(await read_json(request, MAX_JSON_BYTES))
    serial = read.text("platform_serial", limit=64) or ""
    refund_serial = read.text("refund_serial", limit=64) or ""
    reason = read.text("reason", limit=500, multiline=True) or ""
    read.raise_errors()
    fine = await fines.fine_for_agency(db, agency.agency_id, request.path_params["fine_id"])
    now = request_now(request)
    await payment_orders.record_refund(db, fine.id, platform_serial=serial, refund_serial=refund_serial,
                                       reason=reason, actor=agency.actor, now=now)
    return await _fine_answer(request, db, fine, now)



async def _fine_answer(request: Request, db: AsyncSession, fine: Fine, now: datetime, *,
                       status: int = 200) -> Response:
    """The fine as every fine endpoint answers it: as of ``now``'s China date, never cached."""
    view = await fine_views.fine_view(db, fine, china_date(now))
    return JSONResponse(fine_json.fine(view, request.app.state.settings.public_url),
                        status_code=status, headers={"cache-control": "no-store"})

@openapi.operation(
    "get", summary="A day's reconciliation with the payment platform", security="agency",
    tag="payments", parameters=(DAY,),
    description="The platform's daily statement compared with the portal's records (run by "
                "`portal payments reconcile --date D`), reduced to this agency's fines: payments "
                "missing on either side and amount mismatches.",
    replies={200: openapi.Reply("The latest run of the day, per platform.", fine_json.RECONCILIATION),
             404: openapi.problem("Not reconciled yet (`reconciliation_not_found`), or not a date.")},
)
@agency_endpoint
async def get_reconciliation(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    try:
        day = date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise NotFound() from None
    rows = await reconciliations.latest(db, day)
    if not rows:
        raise NotFound(code="reconciliation_not_found")
    views = await reconciliations.agency_view(db, agency.agency_id, rows)
    return JSONResponse(fine_json.reconciliation(day, views), headers={"cache-control": "no-store"})


def _new_fine(raw: Any) -> fines.NewFine:
    """The checked request, or ``ValidationFailed`` naming every bad member (``portal.fields``).
    A service date after today is the service's to refuse (``service_in_future``)."""
    read = fields.Reader(raw, allowed=fine_json.NEW_FINE_FIELDS)
    if "body" in read.errors:
        read.raise_errors()
    number = read.text("decision_number", limit=100) or ""
    account = read.text("collecting_account", limit=200) or ""
    amount = read.fen("amount_fen", minimum=1) or 0
    surcharge = read.flag("surcharge_applies", default=True)
    served_on, party_key = None, None
    delivery_id = read.text("delivery_id", limit=64, required=False)
    if delivery_id is not None or "delivery_id" in read.errors:
        case_code = read.text("case_code", limit=64, required=False)
        if read.has("served_on"):
            read.errors["delivery_id"] = "delivery_or_served_on"
    else:
        served_on = read.day("served_on", earliest=fields.EARLIEST_DATE, latest=date.max, required=False)
        if not read.has("served_on"):
            read.errors["served_on"] = "delivery_or_served_on"
        case_code = read.text("case_code", limit=64)
        party_key = read.party_key("party")
    read.raise_errors()
    return fines.NewFine(decision_number=number, amount_fen=amount, collecting_account=account,
                         surcharge_applies=bool(surcharge), delivery_id=delivery_id, served_on=served_on,
                         case_code=case_code, party_key=party_key)
