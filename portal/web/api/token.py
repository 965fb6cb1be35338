"""``POST /api/v1/token``: the OAuth2 client credentials grant (RFC 6749 §4.4), run by authlib.

authlib has no Starlette server integration, and its server API is synchronous while our
database is async. So a token request goes in three steps:

1. async, here: read the form (``application/x-www-form-urlencoded``, UTF-8, small, no repeated
   parameter, one client authentication method) and load the credentials of the client ids it
   names (from HTTP Basic and/or ``client_id``);
2. sync, authlib: ``TokenServer`` authenticates the client (``client_secret_basic`` or
   ``client_secret_post``) against those prefetched credentials, checks the grant type and
   scope and generates the token; it never touches the database;
3. async, here: the token's digest is stored and committed, and only then does the token leave.

An unknown or revoked client id still gets a client object, one no secret matches, so the
answer and the work are the same as for a wrong secret (no client-id enumeration). Refusals
become ``OAuthError``/``InvalidClient``, which ``web/errors.py`` renders as RFC 6749 §5.2 JSON
with ``Cache-Control: no-store``; each is logged with a reason and never with a secret.

Transport: authlib refuses token requests whose URI is not https (or loopback). We give it the
public URL of the endpoint (``PUBLIC_URL``), which is https in production however the TLS is
terminated in front of us; a portal published on plain http elsewhere issues no tokens.

Failed token requests are rate-limited per client address (``TOKEN_FAILURES``, the
database-backed windows of ``services.rate_limits``, so the limit holds across processes):
far above what a misconfigured agency produces, far below what guessing a secret needs. Once
an address has spent its failures every request from it is refused before its secret is
tried, until the window ends. Successes are not counted: agencies behind one gateway address
share it, and one of them asking for tokens often must not lock the others out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InsecureTransportError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.authlib_forms import FormPayload
from portal.database import transaction
from portal.errors import BadRequest, InvalidClient, OAuthError
from portal.logs import actor_var
from portal.services import agencies, api_tokens, rate_limits
from portal.services.agencies import ClientCredentials
from portal.web.api import openapi
from portal.web.api.bodies import media_type, read_capped
from portal.web.client import count_failure, refuse_when_spent
from portal.web.csrf import parse_urlencoded

log = logging.getLogger("portal.api.token")

MAX_FORM_BYTES = 4096  # a token request is a few short fields
TOKEN_FAILURES = rate_limits.Limit("api_token_failures", requests=60, window_seconds=60)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPE = "client_credentials"

# Fixed ASCII descriptions (RFC 6749 §5.2): nothing the caller sent is echoed back.
_DESCRIPTIONS = {
    "invalid_client": "Client authentication failed.",
    "unsupported_grant_type": "Only grant_type=client_credentials is supported.",
    "invalid_scope": "The requested scope is unknown.",
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_request": "The token request is malformed.",
}


class _Client(ClientMixin):
    """authlib's view of an API client; with no credentials it is a client nothing matches."""

    def __init__(self, credentials: ClientCredentials | None) -> None:
        self.credentials = credentials

    def get_client_id(self) -> str:
        return self.credentials.client_id if self.credentials else ""

    def check_client_secret(self, client_secret: str) -> bool:
        return agencies.secret_matches(self.credentials, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return api_tokens.granted_scope(scope)


class _Grant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)


class _TokenRequest(OAuth2Request):
    def __init__(self, uri: str, headers: Mapping[str, str], form: FormPayload) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = form

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class TokenServer(AuthorizationServer):
    """authlib's authorization server for one request: it knows only that request's prefetched
    clients, and keeps what it issued for the caller to store."""

    def __init__(self, clients: Mapping[str, ClientCredentials | None]) -> None:
        super().__init__(scopes_supported=list(api_tokens.SCOPES))
        self._clients = clients
        self.issued: tuple[dict[str, Any], ClientCredentials] | None = None
        self.register_grant(_Grant)
        lifetime = int(api_tokens.TOKEN_LIFETIME.total_seconds())
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=lambda **_: api_tokens.new_token_value(),
            expires_generator=lifetime))

    def query_client(self, client_id: str) -> _Client:
        return _Client(self._clients.get(client_id))

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.issued = (token, request.client.credentials)

    def create_oauth2_request(self, request: _TokenRequest) -> _TokenRequest:
        return request  # already built, asynchronously, by ``issue_token``

    def handle_response(self, status: int, body: dict[str, Any],
                        headers: list[tuple[str, str]]) -> _Reply:
        return _Reply(status, body, headers)

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> _Reply:
        code = error.error if error.error in _DESCRIPTIONS else "invalid_request"
        if code == "invalid_client":
            raise InvalidClient(_DESCRIPTIONS[code])
        raise OAuthError(_DESCRIPTIONS[code], code=code)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's hook for framework signals; nothing here listens."""


TOKEN_REQUEST = openapi.Schema("TokenRequest", {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "description": "Must be `client_credentials`."},
        "scope": {"type": "string",
                  "description": f"Space-separated, from: {', '.join(api_tokens.SCOPES)}; "
                                 f"default `{api_tokens.DEFAULT_SCOPE}`."},
        "client_id": {"type": "string", "description": "With client_secret_post only."},
        "client_secret": {"type": "string", "description": "With client_secret_post only."},
    },
})
TOKEN_RESPONSE = openapi.Schema("TokenResponse", {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "additionalProperties": False,
    "properties": {
        "access_token": {"type": "string", "minLength": 43},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
        "scope": {"type": "string"},
    },
})
TOKEN_ERROR = openapi.Schema("TokenError", {
    "description": "RFC 6749 §5.2 error (`error`, `error_description`) that is also problem "
                   "details: `code` equals `error`.",
    "allOf": [openapi.PROBLEM.ref()],
    "required": ["error", "error_description"],
    "properties": {
        "error": {"enum": sorted(_DESCRIPTIONS)},
        "error_description": {"type": "string", "pattern": "^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]*$"},
    },
}, uses=(openapi.PROBLEM,))
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@openapi.operation(
    "post", tag="oauth2", security="client",
    summary="Get an access token (OAuth2 client credentials)",
    description="RFC 6749 §4.4. Authenticate the client with HTTP Basic (client_secret_basic) "
                "or with client_id and client_secret in the form (client_secret_post), never "
                "both. The token is opaque, lasts expires_in seconds and is refused once the "
                "client is revoked; there is no refresh token: ask again.",
    body=openapi.Body(TOKEN_REQUEST, "application/x-www-form-urlencoded"),
    replies={
        200: openapi.Reply("The access token.", TOKEN_RESPONSE, headers=_NO_STORE),
        400: openapi.Reply("invalid_request, unsupported_grant_type, invalid_scope or "
                           "unauthorized_client.", TOKEN_ERROR, headers=_NO_STORE),
        401: openapi.Reply("invalid_client: unknown or revoked client, or a wrong secret.",
                           TOKEN_ERROR, headers={**_NO_STORE, "WWW-Authenticate": 'Basic realm="portal"'}),
        413: openapi.problem("The request body is larger than a token request can be."),
        429: openapi.problem("Too many failed token requests from this address (`rate_limited`).",
                             **{"Retry-After": "Seconds until the limit resets."}),
    },
)
async def issue_token(request: Request) -> Response:
    await refuse_when_spent(request, TOKEN_FAILURES)
    try:
        return await _issue(request)
    except OAuthError:
        await count_failure(request, TOKEN_FAILURES)
        raise


async def _issue(request: Request) -> Response:
    pairs = await _read_form(request)
    basic_id, basic_secret = _basic_credentials(request)
    form = dict(pairs)
    if basic_id and "client_secret" in form:
        _refuse(OAuthError("Use one client authentication method, not two.", code="invalid_request"))
    if basic_id and form.get("client_id", basic_id) != basic_id:
        _refuse(OAuthError("client_id differs from the Basic credentials.", code="invalid_request"))
    claimed = [c for c in (basic_id, form.get("client_id")) if c]
    oauth_request = _oauth_request(request, pairs)
    async with transaction(request.app.state.sessions) as db:
        clients = {client_id: await agencies.load_credentials(db, client_id) for client_id in claimed}
        server = TokenServer(clients)
        try:
            reply: _Reply = server.create_token_response(oauth_request)
        except OAuthError as refusal:
            _log_refusal(refusal, clients, basic_secret or form.get("client_secret"))
            raise
        if server.issued is None:
            raise RuntimeError("authlib answered 200 without saving a token")
        issued, client = server.issued
        await api_tokens.store_token(db, issued["access_token"], client_id=client.client_id,
                                     agency_id=client.agency_id, scope=issued["scope"])
    actor_var.set(f"agency:{client.agency_id}/client:{client.client_id}")
    log.info("token issued", extra={"action": "token", "client_id": client.client_id,
                                    "agency_id": client.agency_id})
    return JSONResponse(reply.body, status_code=reply.status, headers=dict(reply.headers))


async def _read_form(request: Request) -> list[tuple[str, str]]:
    if media_type(request) != "application/x-www-form-urlencoded":
        _refuse(OAuthError("The body must be application/x-www-form-urlencoded.",
                           code="invalid_request"))
    body = await read_capped(request, MAX_FORM_BYTES)
    try:
        pairs = parse_urlencoded(body, max_fields=20)
    except BadRequest:
        _refuse(OAuthError("The body must be UTF-8 form fields.", code="invalid_request"))
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):  # RFC 6749 §3.2
        _refuse(OAuthError("Parameters must not be repeated.", code="invalid_request"))
    if "grant_type" not in names:
        _refuse(OAuthError("grant_type is required.", code="invalid_request"))
    return pairs


def _oauth_request(request: Request, pairs: list[tuple[str, str]]) -> _TokenRequest:
    """authlib's request, addressed by the endpoint's public URL (see the module docstring)."""
    try:
        return _TokenRequest(request.app.state.settings.public_url + request.url.path,
                             request.headers, FormPayload(pairs))
    except InsecureTransportError:
        log.warning("token endpoint needs an https PUBLIC_URL",
                    extra={"action": "token", "reason": "insecure_transport"})
        raise OAuthError("The token endpoint requires https.", code="invalid_request") from None


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    """HTTP Basic client credentials, parsed as authlib will parse them a moment later."""
    try:
        return extract_basic_authorization(request.headers)  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        _refuse(InvalidClient(_DESCRIPTIONS["invalid_client"]))


def _refuse(refusal: OAuthError) -> NoReturn:
    log.warning("token request refused", extra={"action": "token", "code": refusal.code,
                                                "reason": refusal.code})
    raise refusal


def _log_refusal(refusal: OAuthError, clients: Mapping[str, ClientCredentials | None],
                 secret: str | None) -> None:
    known = [c for c in clients.values() if c is not None]
    reason = refusal.code
    if isinstance(refusal, InvalidClient):
        if not clients or not secret:
            reason = "no_credentials"
        elif not known:
            reason = "unknown_client"
        elif any(c.revoked for c in known):
            reason = "revoked_client"
        else:
            reason = "wrong_secret"
    client_id = known[0].client_id if known else "-"  # only ids that exist, never raw input
    log.warning("client authentication refused" if isinstance(refusal, InvalidClient)
                else "token request refused",
                extra={"action": "token", "code": refusal.code, "reason": reason,
                       "client_id": client_id})
