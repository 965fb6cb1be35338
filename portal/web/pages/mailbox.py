"""The mailbox (电子送达邮箱): what arrived for the acting party, and what it starts.

    GET  /mailbox                      list, unread count, filters by case and type (htmx swaps
                                       the ``items`` block; without JavaScript the form reloads)
    GET  /mailbox/{id}                 one item, the task first: 查看/下载, what the
                                       document asks of the party and by when; then the service
                                       time, the receipt, a paper copy; UTC and the document's
                                       hash under 技术信息
    POST /mailbox/{id}/view            查看: record ``read`` (the first time), then 303 to…
    GET  /mailbox/{id}/view.pdf        …the document shown in the browser (``downloads.pdf_inline``)
    POST /mailbox/{id}/document        下载: the document as a file; the first one records ``read``
    GET  /mailbox/{id}/receipt         the service receipt (送达回证), once issued
    POST /mailbox/{id}/paper-copy      ask the agency for a paper copy (Civil Procedure Law art. 90)

A document whose stored bytes no longer match their hash is never served: the person sees an
error page, and the log gets an alarm (``BlobCorrupted``).

Every route re-checks whom the person acts for (``require_party``): reading needs a delegation
of ``mailbox`` scope at least, asking for a paper copy (an act) needs ``full``.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.blobstore import BlobCorrupted
from portal.catalogue import MAILBOX
from portal.database import transaction
from portal.errors import PortalError
from portal.models.eservice import Delivery
from portal.services import delivery_views, mailbox, notices, todo
from portal.services.calendar import load_calendar
from portal.services.deliveries import DOCUMENT_TYPES
from portal.todo import TodoKind
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web.auth import require_party
from portal.web.clock import request_now
from portal.web.downloads import pdf_attachment, pdf_inline
from portal.web.rendering import render

log = logging.getLogger("portal.mailbox")


class DocumentDamaged(PortalError):
    """The stored document fails its hash check: an alarm, never a silent serve."""

    code = "document_damaged"


async def index(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    case_code = request.query_params.get("case") or None
    document_type = request.query_params.get("type") or None
    async with request.app.state.sessions() as db:
        all_items = await mailbox.items(db, user.acting_party_id)
        shown = await mailbox.items(db, user.acting_party_id, case_code=case_code,
                                    document_type=document_type)
        unread = await mailbox.unread_count(db, user.acting_party_id)
    cases = sorted({(i.case.code, i.case.agency_case_number) for i in all_items})
    return render(request, "pages/mailbox/index.html", {
        "items": shown, "unread": unread, "cases": cases, "types": DOCUMENT_TYPES,
        "filters": {"case": case_code or "", "type": document_type or ""},
        "can_act": user.scope == SCOPE_FULL,
    }, block="items")


async def detail(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
        view = await delivery_views.agency_view(db, found.delivery)
        calendar = await load_calendar(db)
        deadlines = await mailbox.deadlines(db, found, user.acting_party_id, calendar)
        tasks = [task for task in await todo.case_tasks(db, user.acting_party_id, found.case,
                                                          request_now(request), calendar)
                 if task.kind is not TodoKind.DOCUMENT]
    return render(request, "pages/mailbox/detail.html", {
        "item": found, "view": view, "deadlines": deadlines, "names": MAILBOX, "tasks": tasks,
        "requested": request.query_params.get("requested") == "1",
        "can_act": user.scope == SCOPE_FULL,
    })


async def document(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with transaction(request.app.state.sessions) as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
        data = await _checked(request, found.delivery)
        await mailbox.record_read(db, found.delivery, user.person_id, user.actor)
        await notices.mark_read_leading_to(db, user.acting_party_id, f"/mailbox/{found.delivery.public_id}")
    return pdf_attachment(data, MAILBOX["document_name"].format(title=found.delivery.title))


async def view(request: Request) -> Response:
    """查看: the first opening is evidence (a POST, never a GET's side effect: ASVS 3.5.1),
    then the browser is sent to the document itself."""
    user = await require_party(request, SCOPE_MAILBOX)
    async with transaction(request.app.state.sessions) as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
        await mailbox.record_read(db, found.delivery, user.person_id, user.actor)
        await notices.mark_read_leading_to(db, user.acting_party_id, f"/mailbox/{found.delivery.public_id}")
    return RedirectResponse(f"/mailbox/{found.delivery.public_id}/view.pdf", status_code=303)


async def view_pdf(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
    data = await _checked(request, found.delivery)
    return pdf_inline(data, MAILBOX["document_name"].format(title=found.delivery.title))


async def receipt(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
        data = await delivery_views.receipt_pdf(db, request.app.state.blobs, found.delivery)
    return pdf_attachment(data, MAILBOX["receipt_name"].format(title=found.delivery.title))


async def paper_copy(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    async with transaction(request.app.state.sessions) as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
        await mailbox.request_paper_copy(db, found.delivery, user.person_id, user.actor)
    return RedirectResponse(f"/mailbox/{found.delivery.public_id}?requested=1", status_code=303)


async def _checked(request: Request, delivery: Delivery) -> bytes:
    try:
        return bytes(await request.app.state.blobs.get(delivery.document_sha256))
    except BlobCorrupted:
        log.critical("stored document fails its hash check", extra={"object": delivery.document_sha256})
        raise DocumentDamaged() from None
