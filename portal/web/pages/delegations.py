"""Authorising others to act for the party (代为办理授权), as the party manages it.

    GET  /account/delegations                  who may act for the acting party; the grant form
    POST /account/delegations                  grant (fresh login needed) → 303 to the new one
    GET  /account/delegations/{id}             one delegation; after granting, the confirmation
    GET  /account/delegations/{id}/revoke      "revoke this one?": the confirmation to press
    POST /account/delegations/{id}/revoke      revoke → 303 to the delegation, now revoked
    POST /account/delegations/{id}/authorisation      sign its power of attorney (授权委托书)
    GET  /account/delegations/{id}/authorisation.pdf  the signed power of attorney

Only the party themself, or an organisation's agent vouched for by the identity provider while
acting for the organisation, manages these pages; anyone else (a delegate acting for the
party) gets the 404 of a foreign id, so a delegate can never pass the party's trust on.
Granting hands someone the party's legal mail, so it needs a login from the last minutes
(SECURITY.md 7.5.1) and counts against a per-client limit (the name check is an oracle of
sorts); revoking only takes access away and is never made harder. Signing the power of
attorney of a delegation in force (APL art. 64(3): the agency sees on what authority the
agent acts, ``services.authorisations``) is a signature like the e-service confirmation's:
fresh login, the person's remote-signing key, once per delegation. Pages work without
JavaScript: plain forms, an error summary, and 303 after each POST.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import fields
from portal.catalogue import DELEGATION, title
from portal.database import transaction, utcnow
from portal.documents.authorisation import render_authorisation
from portal.errors import NotFound, ValidationFailed
from portal.legal_calendar import china_date, day_text
from portal.services import authorisations, consent_documents, delegations, rate_limits
from portal.web.auth import CurrentUser, require_acting, require_fresh_login
from portal.web.client import client_key, enforce
from portal.web.downloads import pdf_attachment
from portal.web.pages.consent import remote_signer
from portal.web.rendering import render

GRANTS = rate_limits.Limit("delegation_grant", requests=20, window_seconds=3600)
_MAX_ID = 2**31 - 1  # the id column is a 32-bit integer: larger values cannot name a row
_HOME = "/account/delegations"


async def _manager(request: Request) -> CurrentUser:
    """The person, if they may manage the delegations of the party they act for; else 404."""
    user = await require_acting(request)
    async with request.app.state.sessions() as db:
        if not await delegations.may_manage(db, user.person_id, user.acting_party_id):
            raise NotFound()
    return user


def _delegation_id(request: Request) -> int:
    raw = request.path_params["delegation_id"]
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= _MAX_ID):
        raise NotFound()
    return int(raw)


async def index(request: Request) -> Response:
    return await _index(request, await _manager(request))


async def _index(request: Request, user: CurrentUser, *, errors: dict[str, str] | None = None,
                 form: dict[str, Any] | None = None, status: int = 200) -> Response:
    async with request.app.state.sessions() as db:
        listed = await delegations.delegations(db, user.acting_party_id)
    today = china_date(utcnow())
    return render(request, "pages/account/delegations/index.html", {
        "me": user, "delegations": listed, "errors": errors or {}, "form": form or {},
        "today": today.isoformat(), "latest": delegations.latest_last_day(today).isoformat(),
        "L": DELEGATION,
    }, status=status)


def _last_day(raw: str) -> date | None:
    """The date typed, in the one format (``portal.fields``); its range is the service's rule."""
    try:
        return fields.day(raw.strip(), earliest=date.min, latest=date.max)
    except fields.FieldError:
        return None


def _messages(codes: dict[str, str]) -> dict[str, str]:
    """The service's problem codes in words, keyed by form field for the error summary."""
    latest = day_text(delegations.latest_last_day(china_date(utcnow())))
    return {field: (DELEGATION.get(f"error.{field}.{code}") or DELEGATION.get(f"error.{code}")
                    or title("validation_failed")).format(latest=latest)
            for field, code in codes.items()}


def _values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in
            ("delegate_name", "delegate_id_number", "scope", "last_day")}


async def grant(request: Request) -> Response:
    user = await _manager(request)
    require_fresh_login(request, _HOME)
    await enforce(request, GRANTS)
    async with request.form(max_files=0, max_fields=5) as form:
        values = _values(form)
    try:
        async with transaction(request.app.state.sessions) as db:
            granted = await delegations.grant(
                db, principal_id=user.acting_party_id, delegate_name=values["delegate_name"],
                delegate_id_number=values["delegate_id_number"], scope=values["scope"],
                last_day=_last_day(values["last_day"].strip()),
                granted_by_person_id=user.person_id, actor=user.actor)
    except ValidationFailed as failed:
        return await _index(request, user, errors=_messages(failed.errors), form=values,
                            status=422)
    return RedirectResponse(f"{_HOME}/{granted.id}?granted=1", status_code=303)


async def detail(request: Request) -> Response:
    user = await _manager(request)
    async with request.app.state.sessions() as db:
        shown = await delegations.delegation(db, user.acting_party_id, _delegation_id(request))
        signed = await authorisations.of_delegation(db, shown.id)
        content = None
        if signed is None and shown.status == delegations.IN_FORCE:
            content = await authorisations.content(db, principal_id=user.acting_party_id,
                                                   delegation_id=shown.id, signer_person_id=user.person_id)
    return render(request, "pages/account/delegations/detail.html", {
        "me": user, "d": shown, "L": DELEGATION, "signed": signed, "content": content,
        "granted": request.query_params.get("granted") == "1",
        "revoked": request.query_params.get("revoked") == "1",
        "just_signed": request.query_params.get("signed") == "1",
    })


async def sign_authorisation(request: Request) -> Response:
    """Render the power of attorney, sign it with the person's key (verified), record it once."""
    user = await _manager(request)
    delegation_id = _delegation_id(request)
    require_fresh_login(request, f"{_HOME}/{delegation_id}")
    async with request.app.state.sessions() as db:
        content = await authorisations.content(db, principal_id=user.acting_party_id,
                                               delegation_id=delegation_id, signer_person_id=user.person_id)
    pdf, placement = await asyncio.to_thread(render_authorisation, content, created_at=utcnow())
    signed = await consent_documents.sign_as(request.app.state.notary, await remote_signer(request, user),
                                             pdf, placement, DELEGATION["authorisation.signature_reason"],
                                             client=client_key(request))
    digest = await request.app.state.blobs.put(signed)
    async with transaction(request.app.state.sessions) as db:
        await authorisations.record(db, principal_id=user.acting_party_id, delegation_id=delegation_id,
                                    signer_person_id=user.person_id, document_sha256=digest,
                                    actor=user.actor)
    return RedirectResponse(f"{_HOME}/{delegation_id}?signed=1", status_code=303)


async def authorisation_document(request: Request) -> Response:
    user = await _manager(request)
    async with request.app.state.sessions() as db:
        shown = await delegations.delegation(db, user.acting_party_id, _delegation_id(request))
        signed = await authorisations.of_delegation(db, shown.id)
    if signed is None:
        raise NotFound()
    data = await request.app.state.blobs.get(signed.document_sha256)
    return pdf_attachment(data, DELEGATION["authorisation.document_name"].format(id=shown.id))


async def confirm_revoke(request: Request) -> Response:
    user = await _manager(request)
    async with request.app.state.sessions() as db:
        shown = await delegations.delegation(db, user.acting_party_id, _delegation_id(request))
    if not shown.revocable:  # nothing left to revoke: the delegation's own page says why
        return RedirectResponse(f"{_HOME}/{shown.id}", status_code=303)
    return render(request, "pages/account/delegations/revoke.html",
                  {"me": user, "d": shown, "L": DELEGATION})


async def revoke(request: Request) -> Response:
    user = await _manager(request)
    delegation_id = _delegation_id(request)
    async with transaction(request.app.state.sessions) as db:
        revoked = await delegations.revoke(db, principal_id=user.acting_party_id,
                                           delegation_id=delegation_id, actor=user.actor)
    return RedirectResponse(f"{_HOME}/{revoked.id}?revoked=1", status_code=303)
