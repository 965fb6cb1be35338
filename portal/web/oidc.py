"""The OpenID Connect relying party: how the portal learns who logged in at the identity provider.

One code path for every provider, the embedded development one included: discovery from
``{issuer}/.well-known/openid-configuration`` (cached), the authorization code flow with
PKCE (S256), ``state`` and ``nonce`` (SECURITY.md, "Identity and sessions"; ASVS
v5.0.0-10.1.2, 10.5.x), the code exchanged with client authentication, and the ID token
checked before any claim is believed: signature against the provider's JWKS (refetched once
when a new ``kid`` appears), ``iss`` equal to the configured issuer (never just whatever
discovery said), ``aud``/``azp`` = our client id, ``exp``/``iat`` and the ``nonce`` bound to
this browser's login attempt. Profile claims missing from the ID token (some providers put
them only in userinfo) are fetched from userinfo, whose ``sub`` must match.

Nothing here knows Starlette or the browser session: ``begin`` returns the values the caller
keeps server-side, ``finish`` takes them back. Every refusal is a ``LoginFailed`` carrying a
short machine reason for the log; the person sees only "登录未完成". The HTTP client is passed
in, so tests route it to an in-process app or a fake provider.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.outbound import tls_context
from portal.settings import OidcSettings

HttpClientFactory = Callable[[], httpx.AsyncClient]

LOGIN_TIMEOUT_SECONDS = 600  # from the login button to the callback
METADATA_TTL_SECONDS = 3600
JWKS_REFRESH_SECONDS = 60  # at most one refetch a minute for an unknown key id
CLOCK_SKEW_SECONDS = 60
PROFILE_CLAIMS = ("name", "id_number")
# Asymmetric signatures only: never "none", never an HMAC keyed with the client secret.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA")


class LoginFailed(Exception):
    """The login cannot be trusted or completed; ``reason`` is for the log, not for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_http_client() -> httpx.AsyncClient:
    """Outbound calls to the provider: bounded in time, never following redirects."""
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False,
                             verify=tls_context())


def in_process_http_client(app: Any, public_url: str) -> HttpClientFactory:
    """Calls to the portal's own public origin are served by ``app`` in-process (the embedded
    provider); anything else goes out as usual. The relying party's code path is unchanged,
    and the portal needs no route to its own public URL (behind a proxy it often has none)."""

    def factory() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False,
                                 verify=tls_context(), mounts={origin(public_url): transport})

    return factory


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    token_auth_method: str
    signing_algorithms: tuple[str, ...]
    sends_iss: bool


@dataclass(frozen=True)
class PendingLogin:
    """What the browser session keeps between the login button and the callback."""

    state: str
    nonce: str
    code_verifier: str
    started_at: int
    fresh: bool = False  # the provider was told to authenticate the person again

    def to_json(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "code_verifier": self.code_verifier, "started_at": self.started_at,
                "fresh": self.fresh}

    @classmethod
    def from_json(cls, state: str, data: Mapping[str, Any]) -> PendingLogin:
        return cls(state, str(data["nonce"]), str(data["code_verifier"]), int(data["started_at"]),
                   bool(data.get("fresh", False)))


@dataclass(frozen=True)
class VerifiedLogin:
    """The verified claims, and when and how strongly the person authenticated."""

    claims: dict[str, Any]
    auth_time: int
    acr: str | None


class RelyingParty:
    def __init__(self, config: OidcSettings, redirect_uri: str, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.issuer = config.issuer
        self.redirect_uri = redirect_uri
        self.clock = clock
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._jwks: tuple[float, KeySet] | None = None

    async def metadata(self, http: httpx.AsyncClient) -> ProviderMetadata:
        now = self.clock()
        if self._metadata and now - self._metadata[0] < METADATA_TTL_SECONDS:
            return self._metadata[1]
        document = await _get_json(http, f"{self.issuer}/.well-known/openid-configuration", "discovery")
        if document.get("issuer") != self.issuer:  # OpenID Connect Discovery 1.0 §4.3
            raise LoginFailed("discovery_issuer_mismatch")
        try:
            methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            metadata = ProviderMetadata(
                issuer=self.issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                userinfo_endpoint=str(document["userinfo_endpoint"]) if document.get("userinfo_endpoint")
                else None,
                token_auth_method=("client_secret_basic" if "client_secret_basic" in methods
                                   else "client_secret_post"),
                signing_algorithms=tuple(
                    alg for alg in document.get("id_token_signing_alg_values_supported", ["RS256"])
                    if alg in SIGNING_ALGORITHMS) or ("RS256",),
                sends_iss=document.get("authorization_response_iss_parameter_supported") is True,
            )
        except (KeyError, TypeError):
            raise LoginFailed("discovery_incomplete") from None
        self._metadata = (now, metadata)
        return metadata

    async def begin(self, http: httpx.AsyncClient, *, fresh: bool = False) -> tuple[str, PendingLogin]:
        """The provider URL to send the browser to, and what to keep until it comes back.

        ``fresh`` is for a legal act that needs the person to have just authenticated: a
        provider with a single sign-on session would otherwise answer at once with the old
        authentication, and the portal would send the person round in a loop (or, trusting
        the callback's arrival time, accept a stale login). ``prompt=login`` and ``max_age=0``
        ask it to authenticate again, and ``finish`` checks that its ``auth_time`` says so."""
        metadata = await self.metadata(http)
        pending = PendingLogin(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                               secrets.token_urlsafe(48), int(self.clock()), fresh)
        again = [("prompt", "login"), ("max_age", "0")] if fresh else []
        url = add_params_to_uri(metadata.authorization_endpoint, [*again,
            ("response_type", "code"),
            ("client_id", self.config.client_id),
            ("redirect_uri", self.redirect_uri),
            ("scope", self.config.scope),
            ("state", pending.state),
            ("nonce", pending.nonce),
            ("code_challenge", create_s256_code_challenge(pending.code_verifier)),
            ("code_challenge_method", "S256"),
        ])
        return url, pending

    async def finish(self, http: httpx.AsyncClient, params: Mapping[str, str],
                     pending: PendingLogin) -> VerifiedLogin:
        """Check the callback against ``pending``, redeem the code, verify what comes back."""
        if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
            raise LoginFailed("state_mismatch")
        if self.clock() - pending.started_at > LOGIN_TIMEOUT_SECONDS:
            raise LoginFailed("login_expired")
        if "error" in params:
            raise LoginFailed("provider_error")
        metadata = await self.metadata(http)
        iss = params.get("iss")
        if (iss is None and metadata.sends_iss) or (iss is not None and iss != self.issuer):
            raise LoginFailed("callback_issuer_mismatch")  # RFC 9207: a mix-up attack
        code = params.get("code", "")
        if not code:
            raise LoginFailed("code_missing")
        token = await self._redeem(http, metadata, code, pending.code_verifier)
        claims = await self._verify_id_token(http, metadata, token, pending.nonce)
        if any(not claims.get(name) for name in PROFILE_CLAIMS):
            claims = {**await self._userinfo(http, metadata, token, claims["sub"]), **claims}
        auth_time = claims.get("auth_time")
        if pending.fresh and not (isinstance(auth_time, int | float)
                                  and auth_time >= pending.started_at - CLOCK_SKEW_SECONDS):
            raise LoginFailed("not_authenticated_again")  # OIDC Core 3.1.2.1: max_age asks for auth_time
        return VerifiedLogin(
            claims=claims,
            auth_time=int(auth_time) if isinstance(auth_time, int | float) else int(self.clock()),
            acr=str(claims["acr"]) if claims.get("acr") else None,
        )

    async def _redeem(self, http: httpx.AsyncClient, metadata: ProviderMetadata, code: str,
                      code_verifier: str) -> dict[str, Any]:
        form = urlencode({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": self.redirect_uri, "code_verifier": code_verifier})
        headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
        auth = ClientAuth(self.config.client_id, self.config.client_secret, metadata.token_auth_method)
        _, headers, body = auth.prepare("POST", metadata.token_endpoint, headers, form)
        try:
            response = await http.post(metadata.token_endpoint, content=body, headers=headers)
            token = response.json()
        except (httpx.HTTPError, ValueError):
            raise LoginFailed("token_endpoint_unreachable") from None
        if response.status_code != 200 or not isinstance(token, dict) or "error" in token:
            raise LoginFailed("code_refused")
        if not isinstance(token.get("id_token"), str) or str(token.get("token_type", "")).lower() != "bearer":
            raise LoginFailed("token_response_invalid")
        return token

    async def _verify_id_token(self, http: httpx.AsyncClient, metadata: ProviderMetadata,
                               token: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        algorithms = list(metadata.signing_algorithms)
        try:
            try:
                decoded = jwt.decode(token["id_token"], await self._keys(http, metadata), algorithms)
            except JoseError:
                keys = await self._refreshed_keys(http, metadata)
                if keys is None:
                    raise
                decoded = jwt.decode(token["id_token"], keys, algorithms)
        except (JoseError, ValueError, TypeError):
            raise LoginFailed("id_token_signature") from None
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            options={"iss": {"essential": True, "value": self.issuer},
                     "aud": {"essential": True, "value": self.config.client_id},
                     "sub": {"essential": True}},
            params={"nonce": nonce, "client_id": self.config.client_id,
                    "access_token": token.get("access_token")},
        )
        try:
            claims.validate(now=int(self.clock()), leeway=CLOCK_SKEW_SECONDS)
        except JoseError as exc:
            raise LoginFailed(f"id_token_{getattr(exc, 'claim', None) or exc.error}") from None
        if int(claims["iat"]) > self.clock() + CLOCK_SKEW_SECONDS:
            raise LoginFailed("id_token_iat")
        return dict(claims)

    async def _keys(self, http: httpx.AsyncClient, metadata: ProviderMetadata) -> KeySet:
        if self._jwks and self.clock() - self._jwks[0] < METADATA_TTL_SECONDS:
            return self._jwks[1]
        return await self._fetch_keys(http, metadata)

    async def _refreshed_keys(self, http: httpx.AsyncClient, metadata: ProviderMetadata) -> KeySet | None:
        """Refetch after a verification failure (the provider may have rotated its key), but not
        if the keys were fetched within the last minute: a forged token must not make us hammer
        the provider."""
        if self._jwks and self.clock() - self._jwks[0] < JWKS_REFRESH_SECONDS:
            return None
        return await self._fetch_keys(http, metadata)

    async def _fetch_keys(self, http: httpx.AsyncClient, metadata: ProviderMetadata) -> KeySet:
        document = await _get_json(http, metadata.jwks_uri, "jwks")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise LoginFailed("jwks_invalid") from None
        self._jwks = (self.clock(), keys)
        return keys

    async def _userinfo(self, http: httpx.AsyncClient, metadata: ProviderMetadata,
                        token: Mapping[str, Any], subject: str) -> dict[str, Any]:
        if not metadata.userinfo_endpoint or not token.get("access_token"):
            return {}
        info = await _get_json(http, metadata.userinfo_endpoint, "userinfo",
                               headers={"authorization": f"Bearer {token['access_token']}"})
        if info.get("sub") != subject:  # OpenID Connect Core §5.3.2
            raise LoginFailed("userinfo_subject_mismatch")
        return info


async def _get_json(http: httpx.AsyncClient, url: str, what: str,
                    headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"accept": "application/json", **(headers or {})})
        document = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        raise LoginFailed(f"{what}_unreachable") from None
    if not isinstance(document, dict):
        raise LoginFailed(f"{what}_invalid")
    return document
