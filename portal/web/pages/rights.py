"""The party's rights as forms on its case (LAW.md, "Rights before a decision").

    GET|POST /cases/{code}/statement         陈述、申辩: text and up to 5 attachments
    GET|POST /cases/{code}/hearing-request   听证申请 (only where the case has the hearing right)
    GET|POST /cases/{code}/recusal           回避申请: whom and why
    GET|POST /cases/{code}/payment-plan      暂缓或分期缴纳罚款申请: reasons, plan, attachments
    GET|POST /cases/{code}/waiver            放弃陈述、申辩, step 1: the checkbox
    GET|POST /cases/{code}/waiver/confirm    step 2: the second confirmation, then the act
    GET      /cases/{code}/submissions/{id}  the confirmation page: what was received, when
    GET      /cases/{code}/submissions/{id}/receipt   the 提交回执 (PDF, sealed, timestamped)

Every form acts for the party, so it re-checks the acting party and needs ``full`` scope
(``require_party``); a case the acting party is not a party to is 404, like a missing one.
Reading a submission and its receipt needs only ``mailbox`` scope, like the case page (a
delegate who may only read sees what was filed), and only the party's own, in that case.
Forms work without JavaScript: a POST with problems answers the form again (422) with an error
summary and what was typed (files must be chosen again: a browser never refills them); a
right that is not open answers the form page (409) saying why, with the deadline and how it
was counted. A recorded act redirects (303) to its confirmation page, whose receipt was sealed
straight after the commit (or, if that failed, is sealed by the worker within seconds: until
then the page says so and the download answers 409 with a retry time).

The waiver is confirmed twice: the checkbox, then a second page. The first step leaves a
one-time nonce for this case in the session, which only the second page's form carries, so a
single forged POST cannot skip the second confirmation.

The instant of an act is the app's pinned clock in tests (``portal.web.clock``), else the
database clock read under the case's lock (``services.submissions.submit``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import attachments
from portal.cases import rights
from portal.cases.objections import Outcome
from portal.cases.rights import SubmissionKind
from portal.catalogue import RIGHTS
from portal.catalogue.errors import PARTY_WORDS as PARTY_TITLE_WORDS
from portal.database import transaction
from portal.documents.submission_receipt import content_rows
from portal.errors import ValidationFailed
from portal.legal_calendar import china_date
from portal.models.cases import Case
from portal.services import cases, submission_views, submissions
from portal.services.calendar import load_calendar
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web.auth import CurrentUser, require_party
from portal.web.client import client_key
from portal.web.clock import pinned_now, request_now
from portal.web.downloads import pdf_attachment
from portal.web.rendering import render
from portal.web.session import browser_session, page_session
from portal.workers.submissions import SubmissionDeps, issue_receipt
from signing import FileProblem

log = logging.getLogger("portal.cases.rights")
Endpoint = Callable[[Request], Awaitable[Response]]
SLUGS = {SubmissionKind.STATEMENT: "statement", SubmissionKind.HEARING_REQUEST: "hearing-request",
         SubmissionKind.RECUSAL: "recusal", SubmissionKind.PAYMENT_PLAN: "payment-plan",
         SubmissionKind.WAIVER: "waiver"}
WAIVER_STEP = "waiver_step"
OUTCOMES = {outcome.value: RIGHTS[f"outcome.{outcome.value}"] for outcome in Outcome}
_MAX_UPLOAD_PARTS = 20  # more file parts than this is not a browser: Starlette refuses it


def messages(errors: dict[str, str], position: int | None = None) -> dict[str, str]:
    """Field → the sentence to show, from field → code."""
    shown = {}
    for field, code in errors.items():
        text = RIGHTS.get(f"error.{field}.{code}") or RIGHTS.get(f"error.{code}", RIGHTS["error.required"])
        shown[field] = text.format(n=position or "")
    return shown


async def _page(request: Request, user: CurrentUser, kind: SubmissionKind, *,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                refused: rights.Refusal | None = None, status: int = 200,
                template: str = "pages/rights/form.html", extra: dict[str, Any] | None = None) -> Response:
    now = request_now(request)
    async with request.app.state.sessions() as db:
        calendar = await load_calendar(db)
        view = await cases.party_view(db, user.acting_party_id, request.path_params["code"], calendar)
        state = await submissions.rights_state(db, view.case, user.acting_party_id, calendar)
    return render(request, template, {
        "kind": kind.value, "slug": SLUGS[kind], "label": RIGHTS[f"kind.{kind.value}"],
        "view": view, "state": state, "now": now, "law": RIGHTS[f"law.{kind.value}"],
        "refusal": refused or rights.refusal(kind, state, now),
        "window": rights.governing_window(kind, state),
        "errors": errors or {}, "values": values or {}, "titles": PARTY_TITLE_WORDS,
        "takes_attachments": kind in rights.TAKES_ATTACHMENTS,
        "limits": attachment_limits(),
        **(extra or {}),
    }, status=status)


async def read_form(form: FormData, kind: SubmissionKind) -> tuple[dict[str, str], list[bytes] | None]:
    """The text fields, and the chosen files read within limits (None: too many to read)."""
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    if kind not in rights.TAKES_ATTACHMENTS:
        return fields, []
    chosen = [upload for upload in form.getlist("attachments")
              if isinstance(upload, UploadFile) and (upload.filename or upload.size)]
    if len(chosen) > attachments.MAX_FILES:
        return fields, None
    return fields, [await upload.read(attachments.MAX_FILE_BYTES + 1) for upload in chosen]


async def _record(request: Request, user: CurrentUser, new: submissions.NewSubmission) -> Response:
    """Record the act (or answer why not), seal its receipt, and redirect to its page."""
    try:
        async with transaction(request.app.state.sessions) as db:
            case = await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])
            submission = await submissions.submit(
                db, request.app.state.blobs, case=case, party_id=user.acting_party_id,
                person_id=user.person_id, actor=user.actor, new=new,
                calendar=await load_calendar(db), now=pinned_now(request))
    except submissions.RightRefused as refused:
        return await _page(request, user, new.kind, refused=refused.refusal, status=409)
    log.info("submission recorded", extra={"action": f"submit_{new.kind.value}",
                                           "object": f"submission:{submission.public_id}"})
    await seal_now(request, submission.id)
    return RedirectResponse(f"/cases/{case.code}/submissions/{submission.public_id}", status_code=303)


async def seal_now(request: Request, submission_id: int) -> None:
    """Issue the receipt now so the confirmation page has it; the queued job is the fallback."""
    state = request.app.state
    deps = SubmissionDeps(state.sessions, state.notary, state.blobs, state.settings.secret_key,
                          development=state.settings.development)
    try:
        await issue_receipt(deps, submission_id)
    except Exception:  # the act stands; the worker retries the receipt
        log.warning("receipt postponed to the worker", exc_info=True,
                    extra={"action": "submission_receipt", "object": f"submission:{submission_id}"})


def attachment_limits() -> dict[str, int]:
    """What the attachments field tells the party (``portal.attachments``)."""
    return {"files": attachments.MAX_FILES, "file_mb": attachments.MAX_FILE_BYTES // attachments.MiB,
            "total_mb": attachments.MAX_TOTAL_BYTES // attachments.MiB}


async def checked_files(request: Request, files: list[bytes] | None
                        ) -> tuple[tuple[attachments.Attachment, ...], dict[str, str]]:
    """The accepted attachments, or the messages saying which file broke which rule. PDFs are
    opened in the verification workers, this client's turn shared fairly with others'."""
    client = client_key(request)

    async def open_pdf(data: bytes) -> FileProblem | None:
        return await request.app.state.notary.attachment_problem(data, client=client)

    try:
        if files is None:
            raise attachments.AttachmentRefused("too_many_files")
        return await attachments.checked(files, open_pdf), {}
    except attachments.AttachmentRefused as refused:
        return (), messages(refused.errors, refused.position)


def form_endpoints(kind: SubmissionKind) -> tuple[Endpoint, Endpoint]:
    """The GET and POST endpoints of one right's form."""

    async def show(request: Request) -> Response:
        return await _page(request, await require_party(request, SCOPE_FULL), kind)

    async def submit(request: Request) -> Response:
        user = await require_party(request, SCOPE_FULL)
        async with request.form(max_files=_MAX_UPLOAD_PARTS, max_fields=30) as form:
            fields, files = await read_form(form, kind)
        async with request.app.state.sessions() as db:
            case = await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])
            officers = [rights.Officer(o.id, o.name, o.credential_number)
                        for o in await cases.officers(db, case)]
        errors: dict[str, str] = {}
        content: dict[str, Any] = {}
        try:
            content = rights.parse_form(kind, fields, officers=officers, hearing_right=case.hearing_right,
                                        today=china_date(request_now(request)))
        except ValidationFailed as failed:
            errors.update(messages(failed.errors))
        accepted, refused = await checked_files(request, files)
        errors.update(refused)
        if errors:
            return await _page(request, user, kind, errors=errors, values=fields, status=422)
        return await _record(request, user, submissions.NewSubmission(kind, content, accepted))

    show.__name__, submit.__name__ = f"{kind.value}_form", f"{kind.value}_submit"
    return show, submit


statement_form, statement_submit = form_endpoints(SubmissionKind.STATEMENT)
hearing_request_form, hearing_request_submit = form_endpoints(SubmissionKind.HEARING_REQUEST)
recusal_form, recusal_submit = form_endpoints(SubmissionKind.RECUSAL)
payment_plan_form, payment_plan_submit = form_endpoints(SubmissionKind.PAYMENT_PLAN)


async def waiver_form(request: Request) -> Response:
    return await _page(request, await require_party(request, SCOPE_FULL), SubmissionKind.WAIVER)


async def waiver_first(request: Request) -> Response:
    """Step 1: the checkbox. Then the second confirmation page (never the act itself)."""
    user = await require_party(request, SCOPE_FULL)
    async with request.form(max_files=0, max_fields=10) as form:
        confirmed = form.get("confirm") == "yes"
    if not confirmed:
        return await _page(request, user, SubmissionKind.WAIVER, status=422,
                           errors=messages({"confirm": "required"}))
    async with request.app.state.sessions() as db:
        case = await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])
        state = await submissions.rights_state(db, case, user.acting_party_id, await load_calendar(db))
    refused = rights.refusal(SubmissionKind.WAIVER, state, request_now(request))
    if refused is not None:
        return await _page(request, user, SubmissionKind.WAIVER, refused=refused, status=409)
    session = page_session(request)
    session[WAIVER_STEP] = {"case": case.code, "party": user.acting_party_id,
                            "nonce": secrets.token_urlsafe(16)}
    return RedirectResponse(f"/cases/{case.code}/waiver/confirm", status_code=303)


async def _own_case(request: Request, user: CurrentUser) -> Case:
    """The case in the path, if the acting party is a party to it; else 404."""
    async with request.app.state.sessions() as db:
        return await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])


def _pending_nonce(request: Request, user: CurrentUser, code: str) -> str | None:
    session = browser_session(request)
    step = session.data.get(WAIVER_STEP) if session else None
    if not isinstance(step, dict) or step.get("party") != user.acting_party_id:
        return None
    if step.get("case") != code:
        return None
    nonce = step.get("nonce")
    return nonce if isinstance(nonce, str) else None


async def waiver_second(request: Request) -> Response:
    """Step 2, the page: are you sure? Without step 1 done for this case: back to step 1."""
    user = await require_party(request, SCOPE_FULL)
    code = (await _own_case(request, user)).code
    nonce = _pending_nonce(request, user, code)
    if nonce is None:
        return RedirectResponse(f"/cases/{code}/waiver", status_code=303)
    return await _page(request, user, SubmissionKind.WAIVER, template="pages/rights/waiver_confirm.html",
                       extra={"nonce": nonce})


async def waiver_confirm(request: Request) -> Response:
    """Step 2, the act: only with the nonce step 1 left in the session for this case."""
    user = await require_party(request, SCOPE_FULL)
    async with request.form(max_files=0, max_fields=10) as form:
        sent = str(form.get("nonce", ""))
        again = form.get("confirmed_again") == "yes"
    case = await _own_case(request, user)
    nonce = _pending_nonce(request, user, case.code)
    if nonce is None or not hmac.compare_digest(sent.encode(), nonce.encode()):
        return RedirectResponse(f"/cases/{case.code}/waiver", status_code=303)
    session = page_session(request)
    session.pop(WAIVER_STEP)
    content = rights.parse_form(SubmissionKind.WAIVER,
                                {"confirm": "yes", "confirmed_again": "yes" if again else ""},
                                officers=(), hearing_right=case.hearing_right,
                                today=china_date(request_now(request)))
    return await _record(request, user, submissions.NewSubmission(SubmissionKind.WAIVER, content))


async def confirmation(request: Request) -> Response:
    view = await _submission(request)
    return submission_page(request, view, f"/cases/{request.path_params['code']}/submissions/"
                                          f"{view.submission.public_id}")


def submission_page(request: Request, view: submission_views.SubmissionView, base: str) -> Response:
    """What was received and when, with the receipt at ``base``/receipt (and, for an objection,
    the agency's answer): the confirmation after the act, and the page to come back to."""
    kind = view.submission.kind
    return render(request, "pages/rights/submitted.html", {
        "view": view, "display_code": view.reference, "base": base,
        "label": RIGHTS[f"kind.{kind}"], "rows": content_rows(kind, view.submission.content),
        "law": RIGHTS[f"law.{kind}"], "outcomes": OUTCOMES,
    })


async def receipt(request: Request) -> Response:
    return await receipt_download(request, await _submission(request))


async def receipt_download(request: Request, view: submission_views.SubmissionView) -> Response:
    """The submission's sealed receipt; 409 with a retry time until the worker issued it."""
    if view.receipt is None:
        raise submissions.ReceiptPending()
    data = await request.app.state.blobs.get(view.receipt.document_sha256)
    return pdf_attachment(data, RIGHTS["receipt.file_name"].format(
        case=view.reference, number=view.submission.public_id))


async def _submission(request: Request) -> submission_views.SubmissionView:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        case = await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])
        submission = await submissions.for_party(db, case, user.acting_party_id,
                                                 request.path_params["submission_id"])
        return await submission_views.view(db, submission)
