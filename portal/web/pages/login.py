"""Citizen login: the login page, the start of the OpenID Connect flow, and its callback.

    GET  /login          the page: what logging in is for, and a button (a CSRF-protected form)
    POST /login          keep state, nonce and PKCE verifier in the server-side session; 303 to
                         the provider's authorization endpoint
    GET  /auth/callback  the provider sends the browser back here; the relying party
                         (``portal.web.oidc``) verifies everything, the login is recorded in one
                         transaction, the session id is replaced (ASVS v5.0.0-7.2.4) and the
                         person lands where they were going, or on 我的待办

Starting a login writes a session row before anyone is known, so starts are rate-limited per
client address (``LOGIN_STARTS``: generous, a whole office may share one address); expired
rows are pruned by the worker (``services.housekeeping``).

Several logins may be in progress in one browser (two tabs), so pending logins are kept per
``state``; each is used once, whatever the outcome. Any failure is the same 400 page, "登录未
完成，请重新登录", with nothing logged in; the reason goes to the log, never personal data.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalogue
from portal.database import transaction
from portal.errors import BadRequest
from portal.logs import actor_var
from portal.services import identity, rate_limits
from portal.web.auth import FRESH_LOGIN_KEY
from portal.web.client import enforce as enforce_rate_limit
from portal.web.oidc import LoginFailed, PendingLogin, RelyingParty, origin
from portal.web.rendering import render
from portal.web.security_headers import content_security_policy
from portal.web.session import page_session

log = logging.getLogger("portal.auth")

PENDING_KEY = "oidc_pending"
MAX_PENDING = 5
DEFAULT_TARGET = "/todo"
DISCOVERY_WAIT_SECONDS = 3
# Reasons the person can do something about get a sentence of their own on the error page.
_DETAIL_CODES = {"provider_error": "login_provider_error", "discovery_unreachable": "idp_unavailable",
                 "token_endpoint_unreachable": "idp_unavailable", "jwks_unreachable": "idp_unavailable",
                 "userinfo_unreachable": "idp_unavailable"}

LOGIN_STARTS = rate_limits.Limit("login_start", requests=120, window_seconds=60)


def _relying_party(request: Request) -> RelyingParty:
    return request.app.state.relying_party


def _refuse(failure: LoginFailed) -> BadRequest:
    log.warning("authentication failed", extra={"action": "login", "reason": failure.reason})
    detail_code = _DETAIL_CODES.get(failure.reason)
    return BadRequest(code="login_failed", detail=catalogue.title(detail_code) if detail_code else None)


async def login_page(request: Request) -> Response:
    """The page, with a form-action policy that lets its form lead to the provider (Chromium
    checks the redirect after the post): the issuer's origin, and that of the authorization
    endpoint once discovery names it. Discovery is cached; a provider that does not answer
    within a few seconds does not hold the page up."""
    settings = request.app.state.settings
    relying_party = _relying_party(request)
    response = render(request, "pages/login.html", {"dev_idp": settings.dev_idp_enabled})
    targets = [origin(relying_party.issuer)]
    try:
        async with asyncio.timeout(DISCOVERY_WAIT_SECONDS), request.app.state.http_client() as http:
            targets.append(origin((await relying_party.metadata(http)).authorization_endpoint))
    except (LoginFailed, TimeoutError):
        pass  # the button still works once the provider answers again
    extra = " ".join(dict.fromkeys(t for t in targets if t != origin(settings.public_url)))
    if extra:
        response.headers["content-security-policy"] = content_security_policy(extra)
    return response


async def start(request: Request) -> Response:
    await enforce_rate_limit(request, LOGIN_STARTS)  # each start stores a session row
    session = page_session(request)
    try:
        async with request.app.state.http_client() as http:
            url, pending = await _relying_party(request).begin(
                http, fresh=bool(session.data.get(FRESH_LOGIN_KEY)))
    except LoginFailed as failure:
        raise _refuse(failure) from None
    pendings: dict[str, Any] = dict(session.data.get(PENDING_KEY) or {})
    pendings[pending.state] = pending.to_json()
    newest = sorted(pendings.items(), key=lambda item: item[1]["started_at"])[-MAX_PENDING:]
    session[PENDING_KEY] = dict(newest)
    return RedirectResponse(url, status_code=303)


async def callback(request: Request) -> Response:
    session = page_session(request)
    params = dict(request.query_params)
    state = params.get("state", "")
    pendings: dict[str, Any] = dict(session.data.get(PENDING_KEY) or {})
    entry = pendings.pop(state, None) if state else None
    if entry is not None:
        session[PENDING_KEY] = pendings  # single use, even if what follows fails
    relying_party = _relying_party(request)
    try:
        if entry is None:
            raise LoginFailed("state_unknown")
        async with request.app.state.http_client() as http:
            verified = await relying_party.finish(http, params, PendingLogin.from_json(state, entry))
    except LoginFailed as failure:
        raise _refuse(failure) from None
    try:
        async with transaction(request.app.state.sessions) as db:
            result = await identity.record_login(db, relying_party.issuer, verified.claims)
    except BadRequest:
        log.warning("authentication failed", extra={"action": "login", "reason": "claims_refused"})
        raise
    session.pop(PENDING_KEY)
    session.pop(FRESH_LOGIN_KEY)
    target = _local_path(session.pop("after_login"))
    session.rotate()
    session["user"] = result.session_user()
    session["auth_time"] = verified.auth_time
    if verified.acr:
        session["acr"] = verified.acr
    else:
        session.pop("acr")
    actor_var.set(f"account:{result.account_id}")
    log.info("authentication succeeded", extra={"action": "login", "object": f"account:{result.account_id}"})
    return RedirectResponse(target, status_code=303)


def _local_path(value: object) -> str:
    """Only a path on this site: never ``//host`` or ``/\\host``, which browsers treat as other sites."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return DEFAULT_TARGET
