"""Objections to data (数据异议 / 纠错) as the party files them, and the agency's answers
(GD art. 49; FJ art. 15; PIPL art. 46; ``services.objections``).

    GET|POST /cases/{code}/objection               to the case's record (a party of the case)
    GET|POST /mailbox/{delivery_id}/objection      to a document served (its addressee)
    GET|POST /publicity/{publication_id}/objection to a published item (a party it concerns)
    GET      /objections                           the acting party's objections and answers
    GET      /objections/{id}                      one: what was received, when; the answer
    GET      /objections/{id}/receipt              its 提交回执 (PDF, sealed, timestamped)

Filing is an act for the party: ``full`` scope (``require_party``) and a fresh login, across
which what was typed is kept (``web.form_drafts``); reading needs ``mailbox``.
A case or mailbox item that is not the acting party's is 404, like a missing one; a published
item is public, so one that does not concern the acting party answers 403 with a page that
says why and whom to ask instead (asked first: it reveals nothing the item does not show).
The forms work without JavaScript, exactly like the rights forms (``pages.rights``): 422 with
an error summary and what was typed, 303 to the confirmation page after the act, whose
receipt was sealed straight after the commit (or by the worker).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from portal.cases import rights
from portal.cases.rights import SubmissionKind
from portal.catalogue import RIGHTS
from portal.database import transaction
from portal.documents.submission_receipt import subject_text
from portal.errors import ValidationFailed
from portal.legal_calendar import china_date
from portal.models.rights import Submission
from portal.services import cases, mailbox, objections, submission_views, submissions
from portal.services import form_drafts as drafts
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web import form_drafts, form_tokens
from portal.web.auth import CurrentUser, require_acting, require_party
from portal.web.clock import pinned_now, request_now
from portal.web.pages import rights as rights_pages
from portal.web.rendering import render

log = logging.getLogger("portal.cases.rights")
_MAX_PUBLICATION_ID = 2**63 - 1


@dataclass(frozen=True)
class Where:
    """Where the form was opened: its URL, what it objects to in words, the way back."""

    action: str
    subject: str
    agency_name: str
    back: str
    back_label: str
    about: tuple[str, int]
    """What the objection is about, as ``(kind, id)``: ("case", …), ("delivery", …) or
    ("publication", …); earlier objections to the same are named on the form."""
    public: bool = False

    def concerns(self, submission: Submission) -> bool:
        kind, subject_id = self.about
        if kind == "delivery":
            return submission.delivery_id == subject_id
        if kind == "publication":
            return submission.publication_id == subject_id
        return submission.case_id == subject_id and submission.delivery_id is None


Filer = Callable[[AsyncSession, objections.Filed], Awaitable[Submission]]


async def _form(request: Request, user: CurrentUser, where: Where, *,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                status: int = 200, form_token: str | None = None) -> Response:
    """The form, like a rights form (``pages.rights._page``): after this session filed it, it
    says so; the party's unanswered objections to the same are named above it."""
    async with request.app.state.sessions() as db:
        earlier = [found for found in await objections.of_party(db, user.acting_party_id)
                   if found.answer is None and where.concerns(found.submission)]
    again = request.method != "GET" or request.query_params.get("again") == "1"
    restored = None if values is not None else await form_drafts.restored(request, user, where.action)
    if restored is not None:
        values = restored
        if form_token is None and form_tokens.nonce_of(request, user, where.action,
                                                       restored.get(form_tokens.FIELD)):
            form_token = restored[form_tokens.FIELD]
    return render(request, "pages/objections/form.html", {
        "where": where, "errors": errors or {}, "values": values or {},
        "limits": rights_pages.attachment_limits(), "law": RIGHTS["law.objection"],
        "form_token": form_token or form_tokens.issue(request, user, where.action),
        "filed": None if again else form_tokens.filed_from_session(request, where.action),
        "earlier": earlier, "label": RIGHTS["kind.objection"], "restored": restored is not None,
        "kept_files": rights_pages.kept_file_rows(await form_drafts.kept_files(request, user, where.action)),
    }, status=status)


async def _submit(request: Request, user: CurrentUser, where: Where, file: Filer) -> Response:
    """Parse, check the files, then record the objection with ``file`` in one transaction; a
    form sent again leads to the first objection's page and files nothing."""
    async with request.form(max_files=20, max_fields=10) as form:
        fields, files = await rights_pages.read_form(form, SubmissionKind.OBJECTION)
    nonce = form_tokens.nonce_of(request, user, where.action, fields.get(form_tokens.FIELD))
    first = await rights_pages.first_filing(request, user, nonce)
    if first is not None:
        return rights_pages.filed_again(request, where.action, _confirmation(first))
    files = await form_drafts.files_with_kept(request, user, where.action, fields, files)
    errors: dict[str, str] = {}
    content: dict[str, str] = {}
    try:
        content = rights.parse_form(SubmissionKind.OBJECTION, fields, officers=(), hearing_right=False,
                                    today=china_date(request_now(request)))
    except ValidationFailed as failed:
        errors.update(rights_pages.messages(failed.errors))
    accepted, refused = await rights_pages.checked_files(request, files)
    errors.update(refused)
    await form_drafts.require_fresh_login_keeping(request, user, where.action, fields,
                                                  [a.data for a in accepted])
    if nonce is None:
        errors.update(rights_pages.messages({form_tokens.FIELD: "stale"}))
    if errors:  # what passed is kept, so it need not be chosen again
        await form_drafts.keep(request, user, where.action, fields, [a.data for a in accepted])
        return await _form(request, user, where, errors=errors, values=fields, status=422,
                           form_token=fields.get(form_tokens.FIELD) if nonce else None)
    filed = objections.Filed(user.acting_party_id, user.person_id, user.actor, content, accepted, nonce)
    try:
        async with transaction(request.app.state.sessions) as db:
            submission = await file(db, filed)
            await drafts.discard(db, person_id=user.person_id, path=where.action)
    except submissions.AlreadyFiled as again:
        return rights_pages.filed_again(request, where.action, _confirmation(again.public_id))
    log.info("objection recorded", extra={"action": "submit_objection",
                                          "object": f"submission:{submission.public_id}"})
    await rights_pages.seal_now(request, submission.id)
    return rights_pages.confirmed(request, where.action, _confirmation(submission.public_id))


def _confirmation(public_id: str) -> str:
    return f"/objections/{public_id}"


async def _case_where(request: Request, user: CurrentUser) -> Where:
    code = request.path_params["code"]
    async with request.app.state.sessions() as db:
        case = await cases.case_for_party(db, user.acting_party_id, code)
        agency_name = await cases.agency_name(db, case)
    return Where(f"/cases/{case.code}/objection", RIGHTS["subject.case"], agency_name,
                 f"/cases/{case.code}", "返回案件", ("case", case.id))


async def case_form(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    return await _form(request, user, await _case_where(request, user))


async def case_submit(request: Request) -> Response:
    user = await form_drafts.require_party_keeping(request)
    where = await _case_where(request, user)
    code = request.path_params["code"]

    async def file(db: AsyncSession, filed: objections.Filed) -> Submission:
        case = await cases.case_for_party(db, user.acting_party_id, code)
        return await objections.on_case(db, request.app.state.blobs, case, filed, now=pinned_now(request))

    return await _submit(request, user, where, file)


async def _delivery_where(request: Request, user: CurrentUser) -> Where:
    async with request.app.state.sessions() as db:
        found = await mailbox.item(db, user.acting_party_id, request.path_params["delivery_id"])
    delivery = found.delivery
    return Where(f"/mailbox/{delivery.public_id}/objection",
                 RIGHTS["subject.delivery"].format(title=delivery.title), found.agency.name,
                 f"/mailbox/{delivery.public_id}", "返回文书", ("delivery", delivery.id))


async def delivery_form(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    return await _form(request, user, await _delivery_where(request, user))


async def delivery_submit(request: Request) -> Response:
    user = await form_drafts.require_party_keeping(request)
    where = await _delivery_where(request, user)
    delivery_id = request.path_params["delivery_id"]

    async def file(db: AsyncSession, filed: objections.Filed) -> Submission:
        found = await mailbox.item(db, user.acting_party_id, delivery_id)
        return await objections.on_delivery(db, request.app.state.blobs, found.delivery, filed,
                                            now=pinned_now(request))

    return await _submit(request, user, where, file)


def _publication_id(request: Request) -> int:
    value = int(request.path_params["publication_id"])
    return value if value <= _MAX_PUBLICATION_ID else 0


async def _publication_where(request: Request, user: CurrentUser) -> Where | Response:
    """The form's frame, or the page saying the item does not concern the acting party."""
    publication_id = _publication_id(request)
    async with request.app.state.sessions() as db:
        item = await objections.public_item(db, publication_id, request_now(request))
        agency_name = await objections.agency_name(db, item.agency_id)
        try:
            await objections.check_concerned(db, request.app.state.settings.secret_key, item,
                                             user.acting_party_id)
        except objections.NotConcerned:
            return render(request, "pages/objections/not_concerned.html", {
                "back": f"/publicity/{item.id}", "agency_name": agency_name,
                "acting_name": user.acting_name}, status=403)
    subject = RIGHTS["subject.publication"].format(id=item.id, version=item.version)
    return Where(f"/publicity/{item.id}/objection", subject, agency_name,
                 f"/publicity/{item.id}", "返回公示信息", ("publication", item.id), public=True)


async def publication_form(request: Request) -> Response:
    where = await _publication_where(request, await require_acting(request))
    if isinstance(where, Response):
        return where
    return await _form(request, await require_party(request, SCOPE_FULL), where)


async def publication_submit(request: Request) -> Response:
    await form_drafts.keep_if_lapsed(request)
    where = await _publication_where(request, await require_acting(request))
    if isinstance(where, Response):
        return where
    user = await require_party(request, SCOPE_FULL)
    publication_id = _publication_id(request)

    async def file(db: AsyncSession, filed: objections.Filed) -> Submission:
        return await objections.on_publication(
            db, request.app.state.blobs, request.app.state.settings.secret_key, publication_id,
            filed, now=pinned_now(request))

    return await _submit(request, user, where, file)


async def index(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        found = await objections.of_party(db, user.acting_party_id)
    return render(request, "pages/objections/list.html", {
        "me": user, "objections": found, "subject_text": subject_text,
        "outcomes": rights_pages.OUTCOMES})


async def _view(request: Request) -> submission_views.SubmissionView:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        submission = await objections.for_party(db, user.acting_party_id,
                                                request.path_params["submission_id"])
        return await submission_views.view(db, submission)


async def detail(request: Request) -> Response:
    view = await _view(request)
    return rights_pages.submission_page(request, view, f"/objections/{view.submission.public_id}")


async def receipt(request: Request) -> Response:
    return await rights_pages.receipt_download(request, await _view(request))
