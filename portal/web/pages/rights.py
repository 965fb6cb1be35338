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

Every form carries a one-time token (``web.form_tokens``): sent twice, it files once, and the
second answer is the first act's confirmation. Every act needs a fresh login; on an older one
what was typed is kept and comes back in the form after the login (``web.form_drafts``).

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
from portal.services import form_drafts as drafts
from portal.services.calendar import load_calendar
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web import form_drafts, form_tokens
from portal.web.auth import CurrentUser, require_fresh_login, require_party
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


def messages(errors: dict[str, str], position: int | None = None) -> dict[str, str]:
    """Field → the sentence to show, from field → code."""
    shown = {}
    for field, code in errors.items():
        text = RIGHTS.get(f"error.{field}.{code}") or RIGHTS.get(f"error.{code}", RIGHTS["error.required"])
        shown[field] = text.format(n=position or "")
    return shown


def form_path(code: str, kind: SubmissionKind) -> str:
    """Where the form of ``kind`` in case ``code`` is posted (and what its token is bound to)."""
    return f"/cases/{code}/{SLUGS[kind]}"


async def _page(request: Request, user: CurrentUser, kind: SubmissionKind, *,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                refused: rights.Refusal | None = None, status: int = 200,
                template: str = "pages/rights/form.html", extra: dict[str, Any] | None = None,
                form_token: str | None = None) -> Response:
    """The form (or, at ``template``, the waiver's second page). Opened again after this
    session filed it (Back), it says so and links to the receipt instead; ``?again=1`` asks
    for the form anyway. Acts of the same kind not yet acknowledged by the agency are named
    above the form, which still files another where the law allows one. What was typed before
    a fresh login comes back filled in (``web.form_drafts``)."""
    now = request_now(request)
    async with request.app.state.sessions() as db:
        calendar = await load_calendar(db)
        view = await cases.party_view(db, user.acting_party_id, request.path_params["code"], calendar)
        state = await submissions.rights_state(db, view.case, user.acting_party_id, calendar)
        earlier = [filed for filed in await submissions.of_party(db, view.case, user.acting_party_id)
                   if filed.submission.kind == kind.value and filed.acknowledged_at is None]
    path = form_path(view.case.code, kind)
    again = request.method != "GET" or request.query_params.get("again") == "1"
    restored = None if values is not None else await form_drafts.restored(request, user, path)
    kept = await form_drafts.kept_files(request, user, path) if kind in rights.TAKES_ATTACHMENTS else []
    if restored is not None:
        values = restored
        if form_token is None and form_tokens.nonce_of(request, user, path, restored.get(form_tokens.FIELD)):
            form_token = restored[form_tokens.FIELD]
    return render(request, template, {
        "kind": kind.value, "slug": SLUGS[kind], "label": RIGHTS[f"kind.{kind.value}"],
        "view": view, "state": state, "now": now, "law": RIGHTS[f"law.{kind.value}"],
        "refusal": refused or rights.refusal(kind, state, now),
        "window": rights.governing_window(kind, state),
        "errors": errors or {}, "values": values or {}, "titles": PARTY_TITLE_WORDS,
        "takes_attachments": kind in rights.TAKES_ATTACHMENTS,
        "limits": attachment_limits(),
        "form_token": form_token or form_tokens.issue(request, user, path),
        "filed": None if again else form_tokens.filed_from_session(request, path),
        "earlier": earlier, "path": path, "restored": restored is not None,
        "kept_files": kept_file_rows(kept),
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
    """Record the act (or answer why not), seal its receipt, and redirect to its page; a form
    filed already redirects to the first act's page and files nothing."""
    code = request.path_params["code"]
    try:
        async with transaction(request.app.state.sessions) as db:
            case = await cases.case_for_party(db, user.acting_party_id, code)
            submission = await submissions.submit(
                db, request.app.state.blobs, case=case, party_id=user.acting_party_id,
                person_id=user.person_id, actor=user.actor, new=new,
                calendar=await load_calendar(db), now=pinned_now(request))
            await drafts.discard(db, person_id=user.person_id, path=form_path(code, new.kind))
    except submissions.RightRefused as refused:
        return await _page(request, user, new.kind, refused=refused.refusal, status=409)
    except submissions.AlreadyFiled as filed:
        return filed_again(request, form_path(code, new.kind), _confirmation(code, filed.public_id))
    log.info("submission recorded", extra={"action": f"submit_{new.kind.value}",
                                           "object": f"submission:{submission.public_id}"})
    await seal_now(request, submission.id)
    return confirmed(request, form_path(code, new.kind), _confirmation(code, submission.public_id))


def _confirmation(code: str, public_id: str) -> str:
    return f"/cases/{code}/submissions/{public_id}"


def confirmed(request: Request, path: str, target: str) -> Response:
    """303 to the act's confirmation page ``target``, remembering that the form at ``path``
    was filed (so that opening it again says so)."""
    form_tokens.remember_filed(request, path, target)
    return RedirectResponse(target, status_code=303)


def filed_again(request: Request, path: str, target: str) -> Response:
    """The form at ``path`` was sent again (a double tap, a refresh, Back and submit): the
    first act's confirmation at ``target``; nothing is filed."""
    log.info("form sent again: nothing filed", extra={"action": "submit_again", "object": target})
    return confirmed(request, path, target)


async def first_filing(request: Request, user: CurrentUser, nonce: str | None) -> str | None:
    """The public id of the act already filed with this form's token, if any (checked again
    under the chain's lock when the act is recorded)."""
    if nonce is None:
        return None
    async with request.app.state.sessions() as db:
        first = await submissions.filed_with(db, user.acting_party_id, nonce)
    return first.public_id if first else None


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


def kept_file_rows(kept: list[bytes]) -> list[dict[str, Any]]:
    """The attachments kept from an earlier post, as the form lists them: kind and size."""
    rows = []
    for position, data in enumerate(kept, start=1):
        kind = attachments.sniff(data) or attachments.MediaType.PDF  # kept only after the checks
        rows.append({"position": position, "kind": kind.extension.upper(), "kb": max(1, len(data) // 1024)})
    return rows


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
        user = await form_drafts.require_party_keeping(request)
        async with request.form(max_files=form_drafts.MAX_FORM_FILES,
                                max_fields=form_drafts.MAX_FORM_FIELDS) as form:
            fields, files = await read_form(form, kind)
        async with request.app.state.sessions() as db:
            case = await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])
            officers = [rights.Officer(o.id, o.name, o.credential_number)
                        for o in await cases.officers(db, case)]
        path = form_path(case.code, kind)
        nonce = form_tokens.nonce_of(request, user, path, fields.get(form_tokens.FIELD))
        first = await first_filing(request, user, nonce)
        if first is not None:
            return filed_again(request, path, _confirmation(case.code, first))
        files = await form_drafts.files_with_kept(request, user, path, fields, files)
        errors: dict[str, str] = {}
        content: dict[str, Any] = {}
        try:
            content = rights.parse_form(kind, fields, officers=officers, hearing_right=case.hearing_right,
                                        today=china_date(request_now(request)))
        except ValidationFailed as failed:
            errors.update(messages(failed.errors))
        accepted, refused = await checked_files(request, files)
        errors.update(refused)
        await form_drafts.require_fresh_login_keeping(request, user, path, fields, [a.data for a in accepted])
        if nonce is None and not errors:  # a right that closed meanwhile says so first
            closed = await _refusal_now(request, user, case, kind)
            if closed is not None:
                return await _page(request, user, kind, refused=closed, status=409)
            errors.update(messages({form_tokens.FIELD: "stale"}))
        if errors:  # what passed is kept, so it need not be chosen again
            await form_drafts.keep(request, user, path, fields, [a.data for a in accepted])
            return await _page(request, user, kind, errors=errors, values=fields, status=422,
                               form_token=fields.get(form_tokens.FIELD) if nonce else None)
        return await _record(request, user, submissions.NewSubmission(kind, content, accepted, nonce))

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
    user = await form_drafts.require_party_keeping(request)
    async with request.form(max_files=0, max_fields=10) as form:
        ticked = form.get("confirm") == "yes"
        token = form.get(form_tokens.FIELD)
    case = await _own_case(request, user)
    path = form_path(case.code, SubmissionKind.WAIVER)
    nonce = form_tokens.nonce_of(request, user, path, token)
    first = await first_filing(request, user, nonce)
    if first is not None:
        return filed_again(request, path, _confirmation(case.code, first))
    await form_drafts.require_fresh_login_keeping(
        request, user, path, {"confirm": "yes" if ticked else "", form_tokens.FIELD: str(token or "")})
    if not ticked:
        return await _page(request, user, SubmissionKind.WAIVER, status=422,
                           errors=messages({"confirm": "required"}), form_token=nonce and str(token))
    refused = await _refusal_now(request, user, case, SubmissionKind.WAIVER)
    if refused is not None:
        return await _page(request, user, SubmissionKind.WAIVER, refused=refused, status=409)
    if nonce is None:
        return await _page(request, user, SubmissionKind.WAIVER, status=422,
                           errors=messages({form_tokens.FIELD: "stale"}))
    session = page_session(request)
    session[WAIVER_STEP] = {"case": case.code, "party": user.acting_party_id,
                            "nonce": secrets.token_urlsafe(16), "form_token": token}
    return RedirectResponse(f"/cases/{case.code}/waiver/confirm", status_code=303)


async def _refusal_now(request: Request, user: CurrentUser, case: Case,
                       kind: SubmissionKind) -> rights.Refusal | None:
    """Why the party may not do ``kind`` in ``case`` now, if it may not."""
    async with request.app.state.sessions() as db:
        state = await submissions.rights_state(db, case, user.acting_party_id, await load_calendar(db))
    return rights.refusal(kind, state, request_now(request))


async def _own_case(request: Request, user: CurrentUser) -> Case:
    """The case in the path, if the acting party is a party to it; else 404."""
    async with request.app.state.sessions() as db:
        return await cases.case_for_party(db, user.acting_party_id, request.path_params["code"])


def _pending_step(request: Request, user: CurrentUser, code: str) -> tuple[str, str] | None:
    """The second page's nonce and the form's one-time token, if step 1 was done for ``code``."""
    session = browser_session(request)
    step = session.data.get(WAIVER_STEP) if session else None
    if not isinstance(step, dict) or step.get("party") != user.acting_party_id:
        return None
    if step.get("case") != code:
        return None
    nonce, token = step.get("nonce"), step.get("form_token")
    return (nonce, token) if isinstance(nonce, str) and isinstance(token, str) else None


async def waiver_second(request: Request) -> Response:
    """Step 2, the page: are you sure? Without step 1 done for this case: back to step 1."""
    user = await require_party(request, SCOPE_FULL)
    code = (await _own_case(request, user)).code
    pending = _pending_step(request, user, code)
    if pending is None:
        return RedirectResponse(f"/cases/{code}/waiver", status_code=303)
    return await _page(request, user, SubmissionKind.WAIVER, template="pages/rights/waiver_confirm.html",
                       extra={"nonce": pending[0]}, form_token=pending[1])


async def waiver_confirm(request: Request) -> Response:
    """Step 2, the act: only with the nonce step 1 left in the session for this case. Sent
    again after the act (its form's one-time token is filed): the act's confirmation."""
    user = await require_party(request, SCOPE_FULL)
    async with request.form(max_files=0, max_fields=10) as form:
        sent = str(form.get("nonce", ""))
        again = form.get("confirmed_again") == "yes"
        token = form.get(form_tokens.FIELD)
    case = await _own_case(request, user)
    path = form_path(case.code, SubmissionKind.WAIVER)
    first = await first_filing(request, user, form_tokens.nonce_of(request, user, path, token))
    if first is not None:
        return filed_again(request, path, _confirmation(case.code, first))
    require_fresh_login(request, f"{path}/confirm")  # the second page again: step 1 is kept
    pending = _pending_step(request, user, case.code)
    if pending is None or not hmac.compare_digest(sent.encode(), pending[0].encode()):
        return RedirectResponse(f"/cases/{case.code}/waiver", status_code=303)
    form_nonce = form_tokens.nonce_of(request, user, path, pending[1])
    session = page_session(request)
    session.pop(WAIVER_STEP)
    content = rights.parse_form(SubmissionKind.WAIVER,
                                {"confirm": "yes", "confirmed_again": "yes" if again else ""},
                                officers=(), hearing_right=case.hearing_right,
                                today=china_date(request_now(request)))
    return await _record(request, user, submissions.NewSubmission(SubmissionKind.WAIVER, content,
                                                                  form_token=form_nonce))


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
