"""The public verification page: upload a PDF or OFD, read the report, download it.

    GET  /verify                           the upload form
    POST /verify                           rate limited; verify in a worker process; keep the
                                           report; 303 to it (htmx: the report block, URL pushed)
    GET  /verify/reports/{report_id}       the report: summary first, then every signature
    GET  /verify/reports/{report_id}/json  download: the JSON report (what the API answers)
    GET  /verify/reports/{report_id}/pdf   download: the report as a PDF sealed by the portal
    GET  /verify/reports/{report_id}/seals/{number}.png
                                           the picture of signature ``number``'s GB/T 38540
                                           seal, as the report keeps it

Anyone may verify, without logging in, typically on a phone after scanning a QR code on a
paper document. The upload is never stored; the report is, for a day, behind a random id
(``services.verification_reports``). Input errors (no file, empty, too large, not a PDF,
encrypted) come back as the form with a Chinese message tied to the file field, with their
4xx status; the rate limit is the Chinese 429 page with its retry time.

A seal's picture comes from the uploaded file, so it is never served as uploaded: the
verification worker decoded it within limits and re-drew it as a fresh PNG (``signing.
seal_picture``), the report keeps that PNG, and this page serves only bytes that start as a
PNG, as ``image/png`` with ``nosniff`` and a CSP that allows nothing (SECURITY.md "Uploads and
PDFs"). Its URL names the report's random id and the signature's number: no personal data. With htmx the form
posts in the background with a progress line ("正在验证，请稍候…"); htmx swaps only 2xx
answers, so a fragment with an error is sent as 200, and the page without JavaScript, which
is the reference, gets the real status. Every page here is ``no-store``.
"""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalogue
from portal.database import transaction
from portal.documents.verification import render_report_pdf, report_view, seal_pictures
from portal.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    PortalError,
    RateLimited,
    UnsupportedMediaType,
)
from portal.services import rate_limits, verification_reports
from portal.services.verification_reports import StoredReport
from portal.web.client import client_key, enforce
from portal.web.downloads import attachment
from portal.web.files import MAX_DOCUMENT_BYTES, read_document_upload, refuse_unreadable, verification_limit
from portal.web.rendering import is_htmx, render

UPLOAD_TEMPLATE = "pages/verify/upload.html"
REPORT_TEMPLATE = "pages/verify/report.html"
BLOCK = "verify_main"
_FORM_ERRORS = (BadRequest, PayloadTooLarge, UnsupportedMediaType)
REPORT_SEALS = rate_limits.Limit("report_seal", requests=20, window_seconds=60)
"""Reports sealed per client a minute (each an HSM signature and a TSA request)."""


async def verify_page(request: Request) -> Response:
    return _form(request)


async def verify_upload(request: Request) -> Response:
    try:
        await enforce(request, verification_limit(request.app.state.settings))
        data = await read_document_upload(request)
        report = await request.app.state.notary.verify(data, client=client_key(request))
        refuse_unreadable(report)
    except RateLimited as exc:
        if not is_htmx(request):
            raise  # the Chinese 429 page, with Retry-After
        return _form(request, exc)
    except _FORM_ERRORS as exc:
        return _form(request, exc)
    async with transaction(request.app.state.sessions) as db:
        stored = await verification_reports.store(db, report.to_json_dict())
    location = request.url_for("verify_report", report_id=stored.report_id).path
    if is_htmx(request):
        response = _report(request, stored)
        response.headers["hx-push-url"] = location
        return response
    return RedirectResponse(location, status_code=303, headers={"cache-control": "no-store"})


async def report_page(request: Request) -> Response:
    return _report(request, await _stored(request))


async def download_json(request: Request) -> Response:
    stored = await _stored(request)
    body = json.dumps(stored.report, ensure_ascii=False, indent=2).encode()
    return attachment(body, _download_name(stored, "json"), "application/json")


async def download_pdf(request: Request) -> Response:
    """Sealed (B-LT, timestamped) at the first download and kept with the report; later
    downloads serve that copy. Sealing is limited per client (``REPORT_SEALS``)."""
    stored = await _stored(request)
    async with request.app.state.sessions() as db:
        sealed = await verification_reports.sealed_copy(db, stored.report_id)
    if sealed is None:
        await enforce(request, REPORT_SEALS)
        view = report_view(stored.report, expires_at=stored.expires_at)
        unsealed, placement = await asyncio.to_thread(
            render_report_pdf, view, created_at=stored.created_at, pictures=seal_pictures(stored.report))
        made = await request.app.state.notary.seal(
            unsealed, placement, reason=catalogue.VERIFICATION["seal_reason"])
        async with transaction(request.app.state.sessions) as db:
            sealed = await verification_reports.keep_sealed(db, stored.report_id, made)
    return attachment(sealed, _download_name(stored, "pdf"), "application/pdf")


async def seal_image(request: Request) -> Response:
    picture = seal_pictures((await _stored(request)).report).get(request.path_params["number"])
    if picture is None:
        raise NotFound()
    return Response(picture, media_type="image/png", headers={
        "cache-control": "no-store", "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff", "content-disposition": 'inline; filename="seal.png"'})


def _download_name(stored: StoredReport, extension: str) -> str:
    """A Chinese name with the file's hash prefix, so two reports are told apart on disk."""
    name = catalogue.VERIFICATION["download_name"]
    return name.format(sha256=stored.document_sha256[:12], extension=extension)


async def _stored(request: Request) -> StoredReport:
    async with request.app.state.sessions() as db:
        return await verification_reports.load(db, request.path_params["report_id"])


def _report(request: Request, stored: StoredReport) -> Response:
    links = {kind: request.url_for(f"verify_report_{kind}", report_id=stored.report_id).path
             for kind in ("json", "pdf")}
    view = report_view(stored.report, expires_at=stored.expires_at)
    pictures = {signature.seal_picture.number: request.url_for(
        "verify_report_seal", report_id=stored.report_id, number=signature.seal_picture.number).path
        for signature in view.signatures if signature.seal_picture}
    context = {"view": view, "labels": catalogue.VERIFICATION, "links": links, "pictures": pictures}
    return render(request, REPORT_TEMPLATE, context, block=BLOCK)


def _form(request: Request, error: PortalError | None = None) -> Response:
    """The upload form, with ``error`` as the file field's message and the error's status."""
    message = _message(error) if error else None
    status = 200 if error is None or is_htmx(request) else error.status
    headers = {}
    if isinstance(error, RateLimited):
        headers["retry-after"] = str(error.retry_after)
    context = {"errors": {"file": message} if message else None,
               "max_megabytes": MAX_DOCUMENT_BYTES // (1024 * 1024)}
    return render(request, UPLOAD_TEMPLATE, context, status=status, block=BLOCK, headers=headers)


def _message(error: PortalError) -> str:
    labels = catalogue.VERIFICATION
    if isinstance(error, RateLimited):
        return labels["error_rate_limited"].format(seconds=error.retry_after)
    if isinstance(error, PayloadTooLarge):
        return labels["error_payload_too_large"].format(limit=MAX_DOCUMENT_BYTES // (1024 * 1024))
    return catalogue.title(error.code)
