"""The development identity provider as a running service: its HTTP endpoints (mounted at
``/dev-idp`` in the portal), its signing key on disk and its authorization codes in the database.

It stands for the province's unified identity platform, so the portal's OpenID client talks
to it exactly as to the real one: discovery, JWKS, the authorize page, the token endpoint.
Instead of verifying anyone it offers the demo identities, under a banner that says so. The
protocol decisions are authlib's, in ``server.py``; this module does the I/O around them.

    GET  /.well-known/openid-configuration   discovery document (issuer = PUBLIC_URL/dev-idp)
    GET  /jwks                               the public signing key
    GET  /authorize                          validate the request, show the demo identities
    POST /authorize                          (CSRF-protected form) issue a code, back to the client
    POST /token                              client authentication + PKCE → ID token

- The token endpoint is a back-channel call authenticated with the client secret and is exempt
  from the portal's CSRF check (``portal.app.CSRF_EXEMPT``).
- The portal is the only client. Its credentials are derived from ``SECRET_KEY``, so the
  portal's OpenID client and the provider agree on them without configuration.
- The RS256 key is generated once into ``DATA_DIR/dev-idp-key.pem`` (mode 0600), under a
  temporary name linked into place, so processes starting together end up with one key and
  tokens verify across restarts. It is loaded on first use: most app instances never sign.
- Codes live in the database, not in memory, because the token request may reach another
  process (DESIGN.md, "Scale"). Only a code's SHA-256 is stored; it is valid 60 seconds and is
  redeemed by one conditional UPDATE (unused and unexpired → used), so of two concurrent
  token requests with one code exactly one gets tokens. authlib's server API is synchronous,
  so a code is loaded before and stored after each authlib call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from authlib.oauth2.rfc6749 import OAuth2Error
from joserfc.jwk import RSAKey
from sqlalchemy import CursorResult, delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portal import catalogue
from portal.database import transaction, utcnow
from portal.dev_idp import identities
from portal.dev_idp.server import (
    ACR,
    AUTH_METHODS,
    SCOPES,
    DevAuthorizationServer,
    IssuedCode,
    ProviderRequest,
    RegisteredClient,
    key_id,
)
from portal.errors import BadRequest
from portal.models import DevIdpCode
from portal.settings import OidcSettings, Settings

log = logging.getLogger("portal.dev_idp")

MOUNT_PATH = "/dev-idp"
CALLBACK_PATH = "/auth/callback"
CLIENT_ID = "enforcement-portal"
KEY_FILE = "dev-idp-key.pem"
CODE_LIFETIME = timedelta(seconds=60)
AUTHORIZE_TEMPLATE = "dev_idp/authorize.html"
CLAIMS = ("sub", "name", "id_number", "org_name", "org_credit_code", "nonce", "auth_time", "acr")


class PageRenderer(Protocol):
    """How the sign-in page is rendered: the app passes the portal's own renderer
    (``portal.web.rendering.render``, with its templates and CSRF token), so this provider,
    which stands for an outside system, does not import the web edge it is mounted beside."""

    def __call__(self, request: Request, template: str, context: dict[str, Any] | None = None, *,
                 status: int = 200) -> Response: ...


def issuer(settings: Settings) -> str:
    """The provider's issuer identifier: its mount point under the portal's public URL."""
    return f"{settings.public_url}{MOUNT_PATH}"


def client_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"dev-idp|client-secret", hashlib.sha256).hexdigest()


def relying_party_settings(settings: Settings) -> OidcSettings:
    """What the portal's OpenID client is configured with when this provider stands in."""
    return OidcSettings(issuer=issuer(settings), client_id=CLIENT_ID,
                        client_secret=client_secret(settings.secret_key), scope=" ".join(SCOPES))


def load_or_create_signing_key(data_dir: Path) -> RSAKey:
    """The provider's RSA key from ``data_dir``, generated there (0600) on first use."""
    path = data_dir / KEY_FILE
    if path.exists():
        return RSAKey.import_key(path.read_bytes())
    key = RSAKey.generate_key(2048, private=True)
    temporary = data_dir / f".{KEY_FILE}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.as_pem(private=True))
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process won the race: use its key
            return RSAKey.import_key(path.read_bytes())
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def _save_code(sessions: async_sessionmaker[AsyncSession], code: str, issued: IssuedCode) -> None:
    now = utcnow()
    async with transaction(sessions) as db:
        await db.execute(delete(DevIdpCode).where(DevIdpCode.expires_at < now))
        db.add(DevIdpCode(code_hash=_digest(code), grant=issued.to_json(), expires_at=now + CODE_LIFETIME))


async def _find_code(sessions: async_sessionmaker[AsyncSession], code: str) -> IssuedCode | None:
    """The grant behind ``code`` if it may still be redeemed; None otherwise."""
    async with sessions() as db:
        row = await db.get(DevIdpCode, _digest(code))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return IssuedCode.from_json(row.grant)


async def _redeem_code(sessions: async_sessionmaker[AsyncSession], code: str) -> bool:
    """Mark ``code`` used; False when it was already used or has expired meanwhile."""
    now = utcnow()
    async with transaction(sessions) as db:
        result = cast(CursorResult[tuple[()]], await db.execute(
            update(DevIdpCode)
            .where(DevIdpCode.code_hash == _digest(code), DevIdpCode.used_at.is_(None),
                   DevIdpCode.expires_at > now)
            .values(used_at=now)
        ))
        return result.rowcount == 1


class DevIdentityProvider:
    """One provider per app: its issuer, its one client, its signing key and authlib server."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                 render: PageRenderer) -> None:
        self.issuer = issuer(settings)
        self.render = render
        self.data_dir = settings.dev_keys_dir
        self.sessions = sessions
        client = RegisteredClient(
            client_id=CLIENT_ID,
            client_secret=client_secret(settings.secret_key),
            redirect_uri=f"{settings.public_url}{CALLBACK_PATH}",
        )
        self._key: RSAKey | None = None
        self.server = DevAuthorizationServer(issuer=self.issuer, client=client, key=self.signing_key)

    def signing_key(self) -> RSAKey:
        if self._key is None:
            self._key = load_or_create_signing_key(self.data_dir)
        return self._key

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/.well-known/openid-configuration", self.discovery, name="dev_idp_discovery"),
            Route("/jwks", self.jwks, name="dev_idp_jwks"),
            Route("/authorize", self.authorize, methods=["GET", "POST"], name="dev_idp_authorize"),
            Route("/token", self.token, methods=["POST"], name="dev_idp_token"),
        ]

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "claims_supported": list(CLAIMS),
            "acr_values_supported": [ACR],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }, headers={"cache-control": "public, max-age=300"})

    async def jwks(self, request: Request) -> Response:
        key = self.signing_key()
        public = {**key.as_dict(private=False), "kid": key_id(key), "use": "sig", "alg": "RS256"}
        return JSONResponse({"keys": [public]}, headers={"cache-control": "public, max-age=300"})

    async def authorize(self, request: Request) -> Response:
        query = list(request.query_params.multi_items())
        oauth_request = ProviderRequest(request.method, str(request.url), request.headers, query=query)
        try:
            grant = self.server.get_consent_grant(oauth_request, end_user=None)
        except OAuth2Error as error:
            return self._authorize_error(error)
        if request.method == "GET":
            return self._page(request)
        form = await request.form()
        login = form.get("login")
        identity = identities.find(login) if isinstance(login, str) else None
        denied = form.get("decision") == "deny"
        if identity is None and not denied:
            return self._page(request, errors={"login": catalogue.title("demo_identity_required")},
                              status=422)
        status, body, headers = self.server.create_authorization_response(
            oauth_request, grant_user=None if denied else identity, grant=grant)
        if oauth_request.issued_code is not None:
            await _save_code(self.sessions, *oauth_request.issued_code)
            log.info("dev identity provider issued a code", extra={"action": "dev_idp_authorize"})
        return self._response(status, body, headers)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        fields = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        oauth_request = ProviderRequest("POST", str(request.url), request.headers, form=fields)
        code = dict(fields).get("code", "")
        if code:
            oauth_request.stored_code = await _find_code(self.sessions, code)
        status, body, headers = self.server.create_token_response(oauth_request)
        if status == 200 and not await _redeem_code(self.sessions, code):
            # a concurrent request redeemed the same code first: only one may have tokens
            status, body, headers = 400, {"error": "invalid_grant"}, headers
        if status != 200:
            log.warning("dev identity provider refused a token request",
                        extra={"action": "dev_idp_token", "reason": str(body.get("error", ""))})
        return self._response(status, body, headers)

    def _page(self, request: Request, *, errors: dict[str, str] | None = None,
              status: int = 200) -> Response:
        return self.render(request, AUTHORIZE_TEMPLATE, {
            "identities": identities.DEMO_IDENTITIES,
            "action": f"{request.url.path}?{request.url.query}",
            "errors": errors or {},
        }, status=status)

    def _authorize_error(self, error: OAuth2Error) -> Response:
        """Errors about a trusted redirect URI go back to the client; others stop here (RFC 6749
        §4.1.2.1): an unknown client or redirect URI must never become an open redirect."""
        if error.redirect_uri:
            return self._response(*self.server.handle_response(*error()))
        log.warning("dev identity provider refused an authorization request",
                    extra={"action": "dev_idp_authorize", "reason": error.error})
        raise BadRequest(code="idp_request_invalid")

    @staticmethod
    def _response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        location = dict(headers).get("Location")
        if location is not None:
            return RedirectResponse(location, status_code=303)
        extra = {name: value for name, value in headers if name.lower() != "content-type"}
        return JSONResponse(body, status_code=status, headers=extra)
