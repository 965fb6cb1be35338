"""Consent to electronic service, as the party does it (APL art. 61; FJ art. 19).

    GET  /consent                     status, history, the confirmation to read, the forms
    POST /consent/sign                sign it with the remote-signing key (fresh login needed)
    POST /consent/draft.pdf           the unsigned confirmation, to sign with one's own certificate
                                      (rendered, not stored: the upload renders it again)
    POST /consent/upload              upload that PDF, signed (fresh login needed)
    POST /consent/revoke              revoke, also signed (fresh login needed)
    GET  /consent/done/{id}           the confirmation page after signing or revoking
    GET  /consent/{id}/document.pdf   the signed confirmation (or revocation) of one's own

Every route acts for the party, so each re-checks the acting party and needs ``full`` scope
(``require_party``): a delegate who may only read the mailbox gets the 404 of a foreign id.
Signing and revoking decide where legal service lands, so each needs a login from the last
ten minutes; the form is shown again after that login, never re-posted. Each act is one
transaction; rendering, signing and verification run before it, outside the database.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.catalogue import CONSENT
from portal.catalogue.regulations import Regulation, regulation
from portal.database import get_existing, transaction, utcnow
from portal.documents.consent_confirmation import render_confirmation, render_revocation
from portal.errors import NotFound, Unprocessable, ValidationFailed
from portal.legal_calendar import china_date
from portal.models.parties import Party
from portal.services import consent, consent_documents, party_keys, rate_limits
from portal.services import form_drafts as drafts
from portal.services.consent_views import ConfirmationContent
from portal.vocabulary import SCOPE_AGENCIES, SCOPE_ALL, SCOPE_FULL
from portal.web import form_drafts
from portal.web.auth import CurrentUser, require_fresh_login, require_party
from portal.web.client import client_key
from portal.web.client import enforce as enforce_rate_limit
from portal.web.downloads import pdf_attachment
from portal.web.rendering import render

HOME = "/consent"
DRAFT_KEY = "consent_draft"
DRAFTS = rate_limits.Limit("consent_draft", requests=10, window_seconds=60)
MAX_UPLOAD = 20 * 1024 * 1024


async def page(request: Request) -> Response:
    return await _page(request, await require_party(request, SCOPE_FULL))


async def _page(request: Request, user: CurrentUser, *, errors: dict[str, str] | None = None,
                form: dict[str, Any] | None = None, status: int = 200) -> Response:
    restored = await form_drafts.restored(request, user, HOME) if form is None else None
    async with request.app.state.sessions() as db:
        history = await consent.history(db, user.acting_party_id)
        all_agencies = await consent_documents.agencies(db)
        content = await consent_documents.confirmation_content(
            db, acting_party_id=user.acting_party_id, signer_person_id=user.person_id, agency_ids=[],
            email_copy=None, on=china_date(utcnow()), regulation=_regulation(request))
    return render(request, "pages/consent/index.html", {
        "history": history, "in_force": history[0] if history and history[0].in_force else None,
        "agencies": {a.id: a.name for a in all_agencies}, "content": content,
        "errors": errors or {}, "form": form or restored or {}, "L": CONSENT,
        "restored": restored is not None,
    }, status=status)


async def _refill(request: Request, user: CurrentUser, failed: ValidationFailed,
                  form: FormData | None = None) -> Response:
    """The consent page again, with an error summary and what the person had chosen."""
    return await _page(request, user, errors=failed.errors, form=_typed(form) if form else {},
                       status=422)


def _typed(form: FormData) -> dict[str, Any]:
    """The choices as the person made them, to show them again."""
    return {"scope": str(form.get("scope") or ""), "email_copy": str(form.get("email_copy") or ""),
            "agency": [str(a) for a in form.getlist("agency")]}


def _choices(form: FormData, known: set[int]) -> tuple[str, list[int], str | None]:
    """The scope, agencies and e-mail copy from the form, or ``ValidationFailed``."""
    errors: dict[str, str] = {}
    scope = str(form.get("scope", SCOPE_ALL))
    agency_ids = []
    for raw in form.getlist("agency"):
        if not str(raw).isdigit() or int(str(raw)) not in known:
            errors["agency"] = CONSENT["error_agency"]
        else:
            agency_ids.append(int(str(raw)))
    if scope not in (SCOPE_ALL, SCOPE_AGENCIES):
        errors["scope"] = CONSENT["error_scope"]
    elif scope == SCOPE_AGENCIES and not agency_ids:
        errors["agency"] = CONSENT["error_no_agency"]
    email = str(form.get("email_copy", "")).strip() or None
    if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
        errors["email_copy"] = CONSENT["error_email"]
    if form.get("confirm") != "yes":
        errors["confirm"] = CONSENT["error_confirm"]
    if errors:
        raise ValidationFailed(errors)
    return scope, (agency_ids if scope == SCOPE_AGENCIES else []), email


async def _content(request: Request, user: CurrentUser, agency_ids: list[int],
                   email: str | None) -> ConfirmationContent:
    async with request.app.state.sessions() as db:
        return await consent_documents.confirmation_content(
            db, acting_party_id=user.acting_party_id, signer_person_id=user.person_id,
            agency_ids=agency_ids, email_copy=email, on=china_date(utcnow()),
            regulation=_regulation(request))


def _regulation(request: Request) -> Regulation:
    """The configured province's regulation: the confirmation cites it, not another's."""
    return regulation(request.app.state.settings.service_desk.province)


async def _known_agencies(request: Request) -> set[int]:
    async with request.app.state.sessions() as db:
        return {a.id for a in await consent_documents.agencies(db)}


async def remote_signer(request: Request, user: CurrentUser) -> Any:
    """The logged-in person's remote-signing key (created on first use); also signs powers of
    attorney (``pages.delegations``)."""
    services = await request.app.state.notary.services()
    if services.dev_pki is None:
        raise Unprocessable("remote_signing_unavailable")
    secret = request.app.state.settings.secret_key.encode()
    async with transaction(request.app.state.sessions) as db:
        person = await get_existing(db, Party, user.person_id)
        return await party_keys.signer_for(db, person, services.dev_pki, secret)


async def _record(request: Request, user: CurrentUser, signed: bytes, scope: str,
                  agency_ids: list[int], email: str | None, method: str) -> Response:
    digest = await request.app.state.blobs.put(signed)
    async with transaction(request.app.state.sessions) as db:
        recorded = await consent.record_consent(
            db, party_id=user.acting_party_id, signer_person_id=user.person_id, scope=scope,
            agency_ids=agency_ids, email_copy=email, method=method, document_sha256=digest,
            actor=user.actor, renderer=request.app.state.renderer)
        await drafts.discard(db, person_id=user.person_id, path=HOME)
    return RedirectResponse(f"/consent/done/{recorded.id}", status_code=303)


async def sign(request: Request) -> Response:
    """Sign with the remote-signing key. On an old login the choices (scope, agencies, e-mail
    for copies; not the confirming tick, given afresh) are kept for the form after the login."""
    user = await require_party(request, SCOPE_FULL)
    async with request.form() as form:
        await form_drafts.require_fresh_login_keeping(request, user, HOME, _typed(form))
        try:
            scope, agency_ids, email = _choices(form, await _known_agencies(request))
        except ValidationFailed as failed:
            return await _refill(request, user, failed, form)
    content = await _content(request, user, agency_ids, email)
    pdf, placement = await asyncio.to_thread(render_confirmation, content, created_at=utcnow())
    signed = await consent_documents.sign_as(request.app.state.notary, await remote_signer(request, user),
                                             pdf, placement, CONSENT["signature_reason"],
                                             client=client_key(request))
    return await _record(request, user, signed, scope, agency_ids, email, "remote_signature")


async def draft(request: Request) -> Response:
    """The unsigned confirmation for the posted choices (a POST: the e-mail address for copies
    stays out of URLs and logs). Nothing is stored: the session keeps the choices, the instant
    printed on it and its SHA-256, and the upload renders it again, byte for byte, to compare.
    Rendering costs CPU, so each client may ask ``DRAFTS`` times a minute."""
    user = await require_party(request, SCOPE_FULL)
    await enforce_rate_limit(request, DRAFTS)
    known = await _known_agencies(request)
    async with request.form(max_files=0, max_fields=50) as form:
        chosen = [str(a) for a in form.getlist("agency")]
        wanted_scope, email = str(form.get("scope") or ""), str(form.get("email_copy") or "").strip() or None
    agency_ids = [int(a) for a in chosen if a.isdigit() and int(a) in known]
    scope = SCOPE_AGENCIES if wanted_scope == SCOPE_AGENCIES and agency_ids else SCOPE_ALL
    issued = {"scope": scope, "agency_ids": sorted(agency_ids) if scope == SCOPE_AGENCIES else [],
              "email": email, "created_at": utcnow().isoformat()}
    pdf = await _render_draft(request, user, issued)
    request.scope["portal_session"][DRAFT_KEY] = {**issued, "sha256": hashlib.sha256(pdf).hexdigest()}
    return pdf_attachment(pdf, CONSENT["document_name"].format(id="待签署"))


async def _render_draft(request: Request, user: CurrentUser, issued: dict[str, Any]) -> bytes:
    """The draft for ``issued`` choices; the same bytes every time (the PDF is deterministic)."""
    created_at = datetime.fromisoformat(issued["created_at"])
    async with request.app.state.sessions() as db:
        content = await consent_documents.confirmation_content(
            db, acting_party_id=user.acting_party_id, signer_person_id=user.person_id,
            agency_ids=issued["agency_ids"], email_copy=issued["email"], on=china_date(created_at),
            regulation=_regulation(request))
    pdf, _ = await asyncio.to_thread(render_confirmation, content, created_at=created_at)
    return pdf


async def upload(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    require_fresh_login(request, HOME)
    session = request.scope["portal_session"]
    issued = session.data.get(DRAFT_KEY)
    if not issued:
        missing = ValidationFailed({"file": CONSENT["error_no_draft"]})
        return await _refill(request, user, missing)
    async with request.form(max_files=1, max_fields=3) as form:
        upload_file = form.get("file")
        data = await upload_file.read(MAX_UPLOAD + 1) if isinstance(upload_file, UploadFile) else b""
    if not data.startswith(b"%PDF-") or len(data) > MAX_UPLOAD:
        return await _refill(request, user, ValidationFailed({"file": CONSENT["error_file"]}))
    draft_pdf = await _render_draft(request, user, issued)
    if hashlib.sha256(draft_pdf).hexdigest() != issued["sha256"]:  # e.g. an agency renamed since
        session.pop(DRAFT_KEY)
        return await _refill(request, user, ValidationFailed({"file": CONSENT["error_no_draft"]}))
    async with request.app.state.sessions() as db:
        person = await get_existing(db, Party, user.person_id)
    await consent_documents.check_uploaded(request.app.state.notary, data, draft_pdf, person.name,
                                          client=client_key(request))
    session.pop(DRAFT_KEY)
    return await _record(request, user, data, issued["scope"], issued["agency_ids"], issued["email"],
                         "uploaded_signature")


async def revoke(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    require_fresh_login(request, HOME)
    async with request.form() as form:
        confirmed = form.get("confirm_revoke") == "yes"
    if not confirmed:
        unconfirmed = ValidationFailed({"confirm_revoke": CONSENT["error_confirm_revoke"]})
        return await _refill(request, user, unconfirmed)
    async with request.app.state.sessions() as db:
        current = await consent.latest(db, user.acting_party_id)
    if current is None or not current.in_force:
        raise NotFound()
    content = await _content(request, user, [], None)
    revoked = (current.consent.signed_at.strftime("%Y-%m-%d"), current.consent.document_sha256)
    pdf, placement = await asyncio.to_thread(render_revocation, content, revoked_consent=revoked,
                                             created_at=utcnow())
    signed = await consent_documents.sign_as(request.app.state.notary, await remote_signer(request, user),
                                             pdf, placement, CONSENT["revocation_reason"],
                                             client=client_key(request))
    digest = await request.app.state.blobs.put(signed)
    async with transaction(request.app.state.sessions) as db:
        ended, _ = await consent.record_revocation(db, party_id=user.acting_party_id,
                                                   signer_person_id=user.person_id,
                                                   document_sha256=digest, actor=user.actor,
                                                   renderer=request.app.state.renderer)
    return RedirectResponse(f"/consent/done/{ended.id}", status_code=303)


async def done(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    record = await _own_record(request, user)
    return render(request, "pages/consent/done.html", {"record": record, "L": CONSENT})


async def document(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    record = await _own_record(request, user)
    if request.query_params.get("which") == "revocation" and record.revocation:
        digest, name = record.revocation.document_sha256, CONSENT["revocation_document_name"]
    else:
        digest, name = record.consent.document_sha256, CONSENT["document_name"]
    return pdf_attachment(await request.app.state.blobs.get(digest), name.format(id=record.consent.id))


async def _own_record(request: Request, user: CurrentUser) -> consent.ConsentRecord:
    raw = request.path_params["consent_id"]
    async with request.app.state.sessions() as db:
        for record in await consent.history(db, user.acting_party_id):
            if str(record.consent.id) == raw:
                return record
    raise NotFound()

