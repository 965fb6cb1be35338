"""The relying party refuses every ID token it must not believe (SECURITY.md, "Identity and
sessions"; ASVS v5.0.0-10.5.x, 6.8.x: 6.8.1 nonce, aud, iss), shown against a scripted provider behind
``httpx.MockTransport`` that returns exactly the token each test wants. A valid token goes
first, through the same fixture, so the refusals are refusals of the flaw and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import pytest_asyncio
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from portal.app import create_app
from tests.conftest import Database, csrf_from, make_settings
from tests.portal.web.login_flow import query, start_login

ISSUER = "https://idp.example.gov.cn"
CLIENT_ID = "portal-client"
CLIENT_SECRET = "s3cret-for-tests-only"
PROVIDER_KEY = RSAKey.generate_key(2048, private=True)
OTHER_KEY = RSAKey.generate_key(2048, private=True)
FAILED = "登录未完成，请重新登录"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class ScriptedProvider:
    """Discovery, JWKS, token and userinfo endpoints; each test bends one thing."""

    def __init__(self) -> None:
        self.nonce = ""
        self.challenge = ""
        self.discovery_changes: dict[str, Any] = {}
        self.claim_changes: dict[str, Any] = {}
        self.sign: Callable[[dict[str, Any]], str] = self.signed
        self.userinfo: dict[str, Any] = {}
        self.reachable = True

    @staticmethod
    def signed(claims: dict[str, Any], key: RSAKey = PROVIDER_KEY) -> str:
        return jwt.encode({"alg": "RS256", "kid": PROVIDER_KEY.thumbprint()}, claims, key)

    def claims(self) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "ext-zhaoliu", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "auth_time": now - 5, "nonce": self.nonce, "name": "赵六",
                  "id_number": "11010519491231002X"}
        claims.update(self.claim_changes)
        return {key: value for key, value in claims.items() if value is not None}

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.reachable:
            raise httpx.ConnectError("provider down", request=request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
                "userinfo_endpoint": f"{ISSUER}/userinfo", "id_token_signing_alg_values_supported": ["RS256"],
                "authorization_response_iss_parameter_supported": True, **self.discovery_changes})
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [PROVIDER_KEY.as_dict(private=False,
                                                                        kid=PROVIDER_KEY.thumbprint())]})
        if path == "/token":
            return self.token(request)
        if path == "/userinfo":
            return httpx.Response(200, json=self.userinfo)
        return httpx.Response(404)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if request.headers.get("authorization") != f"Basic {basic}":
            return httpx.Response(401, json={"error": "invalid_client"})
        if form.get("code") != "code-1" or challenge.decode() != self.challenge:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"access_token": "at-1", "token_type": "Bearer",
                                         "id_token": self.sign(self.claims())})


@pytest_asyncio.fixture(loop_scope="session")
async def provider_and_browser(database: Database,
                               data_dir: Path) -> AsyncIterator[tuple[ScriptedProvider, httpx.AsyncClient]]:
    provider = ScriptedProvider()
    app = create_app(make_settings(database.url, data_dir, OIDC_ISSUER=ISSUER, OIDC_CLIENT_ID=CLIENT_ID,
                                   OIDC_CLIENT_SECRET=CLIENT_SECRET))
    app.state.http_client = lambda: httpx.AsyncClient(transport=httpx.MockTransport(provider.handle))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield provider, http
    await app.state.engine.dispose()


async def attempt(provider: ScriptedProvider, http: httpx.AsyncClient,
                  **callback_changes: str) -> httpx.Response:
    params = query(await start_login(http))
    provider.nonce, provider.challenge = params["nonce"], params["code_challenge"]
    callback = {"code": "code-1", "state": params["state"], "iss": ISSUER, **callback_changes}
    return await http.get("/auth/callback", params=callback)


async def assert_refused(response: httpx.Response, http: httpx.AsyncClient,
                         caplog: pytest.LogCaptureFixture, reason: str) -> None:
    """Refused with the Chinese page, for ``reason`` (as logged), and nobody logged in."""
    assert response.status_code == 400, response.text
    assert FAILED in response.text and "Traceback" not in response.text
    assert [getattr(r, "reason", None) for r in caplog.records if r.name == "portal.auth"] == [reason]
    account = await http.get("/account")
    assert account.status_code == 303 and account.headers["location"] == "/login"


Browser = tuple[ScriptedProvider, httpx.AsyncClient]


async def test_a_valid_token_logs_in(provider_and_browser: Browser) -> None:
    provider, http = provider_and_browser
    response = await attempt(provider, http)
    assert response.status_code == 303 and response.headers["location"] == "/todo"
    assert "赵六" in (await http.get("/account")).text


def _alg_none(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _hs256_with_client_secret(claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(CLIENT_SECRET), algorithms=["HS256"])


BAD_CLAIMS: dict[str, tuple[dict[str, Any], str]] = {
    "wrong_nonce": ({"nonce": "not-the-one-we-sent"}, "id_token_nonce"),
    "missing_nonce": ({"nonce": None}, "id_token_nonce"),
    "wrong_issuer": ({"iss": "https://evil.example"}, "id_token_iss"),
    "wrong_audience": ({"aud": "another-client"}, "id_token_aud"),
    "other_authorised_party": ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"},
                               "id_token_azp"),
    "expired": ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "id_token_exp"),
    "issued_in_the_future": ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
                             "id_token_iat"),
    "missing_subject": ({"sub": None}, "id_token_sub"),
}


@pytest.mark.parametrize("flaw", sorted(BAD_CLAIMS))
async def test_token_with_bad_claims_is_refused(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient], flaw: str,
        caplog: pytest.LogCaptureFixture) -> None:
    provider, http = provider_and_browser
    provider.claim_changes, reason = BAD_CLAIMS[flaw]
    await assert_refused(await attempt(provider, http), http, caplog, reason)


BAD_SIGNATURES: dict[str, Callable[[dict[str, Any]], str]] = {
    "foreign_key": lambda claims: ScriptedProvider.signed(claims, OTHER_KEY),
    "alg_none": _alg_none,
    "hs256_keyed_with_client_secret": _hs256_with_client_secret,
}


@pytest.mark.parametrize("flaw", sorted(BAD_SIGNATURES))
async def test_token_without_a_valid_provider_signature_is_refused(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient], flaw: str,
        caplog: pytest.LogCaptureFixture) -> None:
    provider, http = provider_and_browser
    provider.sign = BAD_SIGNATURES[flaw]
    await assert_refused(await attempt(provider, http), http, caplog, "id_token_signature")


async def test_callback_naming_another_issuer_is_refused(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient],
        caplog: pytest.LogCaptureFixture) -> None:
    # RFC 9207: the provider names itself in the response; a mix-up shows as another issuer
    provider, http = provider_and_browser
    await assert_refused(await attempt(provider, http, iss="https://evil.example"), http, caplog,
                         "callback_issuer_mismatch")


async def test_discovery_claiming_another_issuer_is_refused(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient]) -> None:
    # the issuer is pinned in settings: a discovery document cannot move it
    provider, http = provider_and_browser
    provider.discovery_changes = {"issuer": "https://evil.example"}
    response = await http.post("/login", data={"csrf_token": await csrf_from(http, "/login")})
    assert response.status_code == 400 and FAILED in response.text


async def test_unreachable_provider_is_a_chinese_page_not_a_500(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient]) -> None:
    provider, http = provider_and_browser
    provider.reachable = False
    assert (await http.get("/login")).status_code == 200  # the page still renders
    response = await http.post("/login", data={"csrf_token": await csrf_from(http, "/login")})
    assert response.status_code == 400 and "暂时无法访问" in response.text


async def test_claims_from_userinfo_must_be_about_the_same_subject(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient],
        caplog: pytest.LogCaptureFixture) -> None:
    provider, http = provider_and_browser
    provider.claim_changes = {"name": None, "id_number": None}
    provider.userinfo = {"sub": "someone-else", "name": "钱七", "id_number": "11010519491231002X"}
    await assert_refused(await attempt(provider, http), http, caplog, "userinfo_subject_mismatch")
    provider.userinfo = {"sub": "ext-zhaoliu", "name": "赵六", "id_number": "11010519491231002X"}
    response = await attempt(provider, http)
    assert response.status_code == 303 and "赵六" in (await http.get("/account")).text


async def test_login_page_allows_the_external_provider_as_form_target(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient]) -> None:
    # Chromium applies form-action to the redirect after the login form is posted
    _, http = provider_and_browser
    csp = (await http.get("/login")).headers["content-security-policy"]
    assert csp.endswith(f"form-action 'self' {ISSUER}")
    assert (await http.get("/")).headers["content-security-policy"].endswith("form-action 'self'")
    assert "开发用身份认证服务" not in (await http.get("/login")).text


async def test_dev_provider_is_off_when_an_external_one_is_configured(
        provider_and_browser: tuple[ScriptedProvider, httpx.AsyncClient]) -> None:
    _, http = provider_and_browser
    assert (await http.get("/dev-idp/.well-known/openid-configuration")).status_code == 404


async def test_a_legal_act_after_an_old_login_makes_the_provider_authenticate_again(
        provider_and_browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    # SECURITY.md "Identity and sessions": changing contacts (and signing or revoking consent)
    # needs a login of the last ten minutes. A provider with a single sign-on session must be
    # told so (prompt=login, max_age=0), and its answer must show a new authentication.
    provider, http = provider_and_browser
    provider.claim_changes = {"auth_time": int(time.time()) - 3600}
    assert (await attempt(provider, http)).status_code == 303
    first = query(await start_login(http))
    assert "prompt" not in first and "max_age" not in first  # an ordinary login asks for nothing
    save = await http.post("/account/notifications", data={
        "csrf_token": await csrf_from(http, "/account/notifications"), "email": "zhaoliu@example.com",
        "email_enabled": "yes"})
    assert save.status_code == 303 and save.headers["location"] == "/login?reauth=1"

    again = query(await start_login(http))
    assert again["prompt"] == "login" and again["max_age"] == "0"
    provider.nonce, provider.challenge = again["nonce"], again["code_challenge"]
    stale = await http.get("/auth/callback",
                           params={"code": "code-1", "state": again["state"], "iss": ISSUER})
    await assert_refused_keeping(stale, caplog, "not_authenticated_again")

    provider.claim_changes = {}
    assert (await attempt(provider, http)).status_code == 303  # authenticated again: accepted
    save = await http.post("/account/notifications", data={
        "csrf_token": await csrf_from(http, "/account/notifications"), "email": "zhaoliu@example.com",
        "email_enabled": "yes"})
    assert save.status_code == 303 and save.headers["location"] != "/login?reauth=1"
    assert "prompt" not in query(await start_login(http))  # asked once, not for every later login


async def assert_refused_keeping(response: httpx.Response, caplog: pytest.LogCaptureFixture,
                                 reason: str) -> None:
    assert response.status_code == 400 and FAILED in response.text
    assert [getattr(r, "reason", None) for r in caplog.records if r.name == "portal.auth"] == [reason]
