"""The party's fines: what is due today, paying it through the platform, the e-receipts.

    GET  /fines                                my fines (我的罚款); /payments leads here too
    GET  /fines/{id}                           one fine: the amount due today and until when the
                                               quote holds, the due date and how it was counted,
                                               the surcharge rule (APL art. 72 requires the
                                               party was told), payments, receipts
    POST /fines/{id}/pay                       the one open order (created or reused), then 303
                                               to the platform's pay page
    GET  /fines/{id}/return                    where the platform sends the party back: never
                                               marks anything paid; "支付结果确认中" until the
                                               platform's signed callback arrives (htmx polls the
                                               ``status`` block every 2 s; without JavaScript a
                                               plain link reloads), then "已缴清" and the receipt,
                                               "第N期已缴清" with the next one's due date, or,
                                               cancelled or failed at the platform, what to do
    GET  /fines/{id}/receipts/{code}/{number}  the sealed e-receipt (PDF attachment: 下载)
    GET  …/{number}/view                       the same, shown in the browser (查看)
    GET  …/{number}/ofd                        the e-receipt as OFD sealed per GB/T 38540 (下载),
                                               when ``RECEIPT_FORMATS`` issued it

The task comes first: the outcome of the last payment, what to pay today with
the due date and the pay button, before the fine's details and the law. Under an instalment
plan with nothing due yet, the next instalment's date is offered first and paying it early is
one step further (a <details>). No meta refresh while waiting for the platform: CSP would
allow it, but a page reloading itself on a timer fails WCAG 2.2.1 (F41) for people using
screen readers; htmx polls the status block and, without JavaScript, a link refreshes it.

Only the acting party's fines: another party's is 404 (SECURITY.md 8.2.2). Paying is a POST
with the CSRF token; it changes nothing but the order (the money moves at the platform).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import payments
from portal.blobstore import BlobCorrupted
from portal.catalogue import PAYMENTS
from portal.database import transaction
from portal.errors import Conflict, NotFound, PortalError
from portal.legal_calendar import china_date
from portal.payment_platforms import PaymentPlatforms
from portal.services import fine_views, fines, payment_orders
from portal.services.calendar import load_calendar
from portal.todo import countdown
from portal.web.auth import CurrentUser, require_party
from portal.web.clock import request_now
from portal.web.csrf import csrf_token
from portal.web.downloads import OFD_MEDIA_TYPE, attachment, pdf_attachment, pdf_inline
from portal.web.rendering import render
from portal.web.security_headers import content_security_policy

log = logging.getLogger("portal.fines")
POLL_SECONDS = 2


class PaymentPlatformUnavailable(PortalError):
    """The platform did not take the order; nothing was paid, the party may try again."""

    status = 503
    code = "payment_platform_unavailable"


class ReceiptDamaged(PortalError):
    code = "document_damaged"


async def _party(request: Request, *, pay: bool = False) -> CurrentUser:
    """The logged-in user acting for a party that this person may still represent: reading
    needs the ``mailbox`` scope, paying ``full`` (a narrower delegate gets a 404)."""
    return await require_party(request, "full" if pay else "mailbox")


def _headers(request: Request) -> dict[str, str]:
    """A platform on another origin must be named in ``form-action``: Chromium applies it to
    the redirect that answers the pay button."""
    platforms: PaymentPlatforms = request.app.state.payments
    if not platforms.form_action_origin:
        return {}
    return {"content-security-policy": content_security_policy(platforms.form_action_origin)}


async def index(request: Request) -> Response:
    user = await _party(request)
    today = china_date(request_now(request))
    async with request.app.state.sessions() as db:
        views = [await fine_views.fine_view(db, fine, today)
                 for fine in await fines.fines_of_party(db, user.acting_party_id)]
    return render(request, "pages/fines/list.html", {"views": views})


async def payments_link(request: Request) -> Response:
    """``/payments`` (where payment notifications link) is the list of fines."""
    return RedirectResponse("/fines", status_code=303)


def _outcome(view: fine_views.FineView, returning: bool) -> str | None:
    """What the page the platform sends the party back to reports on the last order:
    ``confirming`` (no word from the platform yet), ``failed`` or ``cancelled`` (nothing was
    paid: pay again), ``instalment_paid`` (an instalment of a plan is paid, others remain);
    a paid fine speaks for itself. Only on the return page: a later visit is a plain visit."""
    order = view.latest_order
    if not returning or order is None:
        return None
    if order.state in ("created", "pending"):
        return "confirming" if view.payable else None
    if order.state == "failed":
        return "failed"
    if order.state in ("closed", "expired"):
        return "cancelled" if view.payable else None
    if order.state == "paid" and view.payable:
        return "instalment_paid"
    return None


async def _page(request: Request, *, returning: bool) -> Response:
    user = await _party(request)
    today = china_date(request_now(request))
    async with request.app.state.sessions() as db:
        fine = await fines.fine_for_party(db, user.acting_party_id, request.path_params["fine_id"])
        view = await fine_views.fine_view(db, fine, today)
        calendar = await load_calendar(db)
    outcome = _outcome(view, returning)
    # a paid fine, or under an instalment plan a paid instalment, waits for its receipt
    issuing = view.receipts_pending or (view.state == "paid" and not view.receipts)
    return render(request, "pages/fines/detail.html", {
        "view": view, "outcome": outcome, "due": countdown(view.effective_due_date, today, calendar),
        "polling": returning and (outcome == "confirming" or issuing), "poll_seconds": POLL_SECONDS,
    }, block="status", headers=_headers(request))


async def detail(request: Request) -> Response:
    return await _page(request, returning=False)


async def returned(request: Request) -> Response:
    return await _page(request, returning=True)


def sandbox_payer(portal: Starlette) -> Callable[[Request, str], Awaitable[str | None]]:
    """The sandbox platform's pay page is the payer's alone (``payments.platforms.sandbox``):
    the check answers the CSRF token for its form when the logged-in user may pay for the
    order's party (the ``full`` scope, as for 缴款), else None; the portal's CSRF middleware
    checks the POST. The sandbox is its own app, so the request is read as the portal's."""

    async def check(request: Request, order_public_id: str) -> str | None:
        request = Request({**request.scope, "app": portal})
        try:
            user = await _party(request, pay=True)
        except PortalError:
            return None
        async with portal.state.sessions() as db:
            payer = await payment_orders.payer_of(db, order_public_id)
        return csrf_token(request) if payer == user.acting_party_id else None

    return check


async def pay(request: Request) -> Response:
    user = await _party(request, pay=True)
    now = request_now(request)
    platforms: PaymentPlatforms = request.app.state.payments
    fine_id = request.path_params["fine_id"]
    async with transaction(request.app.state.sessions) as db:
        fine = await fines.fine_for_party(db, user.acting_party_id, fine_id)
        view = await fine_views.fine_view(db, fine, china_date(now))
        if not view.payable:
            raise Conflict(code="fine_closed")
        order = await payment_orders.open_order(db, fine.id, view.quote, platform=platforms.active.name,
                                                actor=user.actor, now=now)
        order_id, pay_url, payment_code = order.id, order.pay_url, fine.payment_code
        amount, public_id, expires_at = order.amount_fen, order.public_id, order.expires_at
    if pay_url is None:
        try:
            placed = await platforms.active.create_order(
                payment_code=payment_code, amount_fen=amount, order_id=public_id,
                return_url=platforms.return_url(fine_id),
                notify_url=platforms.notify_url(platforms.active.name), expires_at=expires_at)
        except payments.PlatformError as exc:
            log.warning("payment platform refused or unreachable", extra={"reason": type(exc).__name__})
            raise PaymentPlatformUnavailable() from exc
        async with transaction(request.app.state.sessions) as db:
            recorded = await payment_orders.record_platform_order(db, order_id, placed, now=now)
            pay_url = recorded.pay_url
    if pay_url is None:
        raise RuntimeError("a recorded platform order has its pay URL")
    return RedirectResponse(pay_url, status_code=303)


async def receipt(request: Request) -> Response:
    """下载: the sealed e-receipt as a file."""
    data, name = await _receipt(request, "pdf")
    return pdf_attachment(data, name)


async def receipt_view(request: Request) -> Response:
    """查看: the same receipt shown in the browser; the portal made and sealed it, so it may
    go inline (``downloads`` says when a PDF may)."""
    data, name = await _receipt(request, "pdf")
    return pdf_inline(data, name)


async def receipt_ofd(request: Request) -> Response:
    """下载 (OFD): the receipt sealed per GB/T 38540, always a download (browsers show no OFD)."""
    data, name = await _receipt(request, "ofd")
    return attachment(data, name, OFD_MEDIA_TYPE)


async def _receipt(request: Request, document_format: str) -> tuple[bytes, str]:
    user = await _party(request)
    code, number = request.path_params["code"], request.path_params["number"]
    async with request.app.state.sessions() as db:
        fine = await fines.fine_for_party(db, user.acting_party_id, request.path_params["fine_id"])
        views = await fine_views.receipt_views(db, fine.id)
    found = next((v for v in views if (v.row.code, v.row.number) == (code, number)), None)
    document = found.documents.get(document_format) if found is not None else None
    if found is None or document is None:
        raise NotFound()
    try:
        data = bytes(await request.app.state.blobs.get(document.document_sha256))
    except BlobCorrupted:
        log.critical("stored receipt fails its hash check", extra={"object": document.document_sha256})
        raise ReceiptDamaged() from None
    name = PAYMENTS["reversal_name" if found.row.kind == "reversal" else "receipt_name"]
    return data, name.format(code=code, number=number, extension=document_format)
