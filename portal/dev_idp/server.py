"""The development identity provider's OAuth 2.0 / OpenID Connect logic, on authlib's
framework-neutral server classes (authlib has no Starlette server integration).

authlib's server API is synchronous and the database is async, so nothing here touches the
database: the endpoint (``provider.py``) prefetches the stored authorization code before a
token request and attaches it to the request object, and collects the code authlib issues
at the authorize step from the request object afterwards to store it. Protocol decisions
stay with authlib:

- authorization code grant, confidential client (``client_secret_basic`` or ``_post``),
  exact redirect URI match, the one registered client;
- PKCE is required of every request and only ``S256`` is accepted (RFC 9700 §2.1.1);
- a ``nonce`` is required, and the ID token carries it with ``auth_time`` and ``acr``;
- the authorization response names the issuer (RFC 9207), against mix-up attacks.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc.jwk import RSAKey

from portal.authlib_forms import FormPayload
from portal.dev_idp import identities
from portal.dev_idp.identities import DemoIdentity

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
SCOPES = ("openid", "profile")
# No real identity proofing happens here, and the ID token says so.
ACR = "urn:enforcement-portal:dev-idp:no-verification"
ID_TOKEN_SECONDS = 300

Response = tuple[int, Any, list[tuple[str, str]]]


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):
    """The portal, the provider's only client."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):
    """What an authorization code stands for; stored as JSON until it is redeemed."""

    login: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return ACR

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IssuedCode:
        return cls(**data)


def key_id(key: RSAKey) -> str:
    """A stable ``kid``: the RFC 7638 thumbprint of the public key."""
    return key.thumbprint()


class ProviderRequest(OAuth2Request):
    """One HTTP request as authlib sees it, plus the code state carried across the sync API."""

    def __init__(self, method: str, url: str, headers: Any, *, query: Sequence[tuple[str, str]] = (),
                 form: Sequence[tuple[str, str]] = ()) -> None:
        # authlib refuses plain-http request URIs unless a process-wide environment switch is
        # set. It uses the URI for nothing else in these grants, and this provider's transport
        # is the portal's own (PUBLIC_URL decides https), so authlib is shown the https form.
        super().__init__(method, "https://" + url.split("://", 1)[-1], headers=headers)
        self._query = dict(query)
        self._form = dict(form)
        self.payload = FormPayload([*query, *form])
        self.stored_code: IssuedCode | None = None
        self.issued_code: tuple[str, IssuedCode] | None = None

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _S256Required(CodeChallenge):
    """PKCE for every client, confidential ones included, and never the ``plain`` method."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012  (authlib's class attribute)

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'", redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012  (authlib's class attribute)
    request: ProviderRequest
    server: DevAuthorizationServer

    def save_authorization_code(self, code: str, request: ProviderRequest) -> None:
        data = request.payload.data
        user: DemoIdentity = request.user
        request.issued_code = (code, IssuedCode(
            login=user.login, client_id=request.client.get_client_id(),
            redirect_uri=data.get("redirect_uri") or request.client.get_default_redirect_uri(),
            scope=request.scope, nonce=data.get("nonce", ""), code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"], auth_time=int(time.time()),
        ))

    def query_authorization_code(self, code: str, client: ClientMixin) -> IssuedCode | None:
        stored = self.request.stored_code
        return stored if stored is not None and stored.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing to do yet: the endpoint marks the code used once the response is ready."""

    def authenticate_user(self, authorization_code: IssuedCode) -> DemoIdentity | None:
        return identities.find(authorization_code.login)


class _OpenIdCode(OpenIDCode):
    DEFAULT_EXPIRES_IN = ID_TOKEN_SECONDS

    def __init__(self, issuer: str, key: Callable[[], RSAKey]) -> None:
        super().__init__(require_nonce=True)
        self.issuer = issuer
        self.key = key

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        # The nonce protects the client, which binds it to its own session and checks it in the
        # ID token; this provider has no use for remembering nonces.
        return False

    def resolve_client_private_key(self, client: ClientMixin) -> RSAKey:
        return self.key()

    def get_client_algorithm(self, client: ClientMixin) -> str:
        return "RS256"

    def get_encode_header(self, client: ClientMixin) -> dict[str, str]:
        return {"alg": "RS256", "kid": key_id(self.key()), "typ": "JWT"}

    def get_client_claims(self, client: ClientMixin) -> dict[str, Any]:
        return {"iss": self.issuer, "aud": [client.get_client_id()]}

    def generate_user_info(self, user: DemoIdentity, scope: str) -> UserInfo:
        claims = user.claims()
        if "profile" not in scope.split():
            claims = {"sub": claims["sub"]}
        return UserInfo(claims)


class DevAuthorizationServer(AuthorizationServer):
    """authlib's authorization server bound to one client and one signing key."""

    def __init__(self, *, issuer: str, client: RegisteredClient, key: Callable[[], RSAKey]) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.issuer = issuer
        self.client = client
        self.register_token_generator("default", self._bearer_token)
        self.register_grant(_CodeGrant, [_S256Required(required=True), _OpenIdCode(issuer, key)])

    def query_client(self, client_id: str) -> RegisteredClient | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are not kept: this provider has no resource (no userinfo endpoint)."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return cast(ProviderRequest, request)  # the provider hands authlib nothing else

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        """Pass authlib's answer on, naming the issuer in every redirect back to the client."""
        if status == 302:
            headers = [(name, add_params_to_uri(value, [("iss", self.issuer)]) if name == "Location"
                        else value) for name, value in headers]
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system here."""

    @staticmethod
    def _bearer_token(grant_type: str, client: ClientMixin, user: Any = None, scope: str | None = None,
                      expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        return {"token_type": "Bearer", "access_token": secrets.token_urlsafe(32),
                "expires_in": ID_TOKEN_SECONDS, "scope": scope or ""}
