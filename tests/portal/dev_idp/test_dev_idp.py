"""The embedded development identity provider on its own, as a client other than the portal's
relying party would use it: discovery, keys, the authorize page's refusals, and the token
endpoint's client authentication, PKCE and single-use codes. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import stat
from datetime import timedelta
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from portal.app import create_app
from portal.database import utcnow
from portal.dev_idp.provider import CLIENT_ID, KEY_FILE, client_secret
from portal.dev_idp.server import ACR
from portal.models import DevIdpCode
from portal.settings import Settings
from tests.conftest import Database
from tests.portal.web.login_flow import choose_identity, query

ISSUER = "http://testserver/dev-idp"
CALLBACK = "http://testserver/auth/callback"
VERIFIER = "v" * 43 + "-verifier"


def authorize_url(**changes: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": CALLBACK,
        "scope": "openid profile", "state": "state-1", "nonce": "nonce-1",
        "code_challenge": create_s256_code_challenge(VERIFIER), "code_challenge_method": "S256",
        **changes,
    }
    return "/dev-idp/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


async def issue_code(http: httpx.AsyncClient, login: str = "zhangsan") -> str:
    response = await choose_identity(http, authorize_url(), login)
    assert response.status_code == 303
    params = query(response.headers["location"])
    assert response.headers["location"].startswith(CALLBACK + "?")
    assert params["state"] == "state-1" and params["iss"] == ISSUER  # RFC 9207
    return params["code"]


async def redeem(http: httpx.AsyncClient, settings: Settings, code: str, *, verifier: str = VERIFIER,
                 secret: str | None = None, post_auth: bool = False) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "code_verifier": verifier}
    secret = secret or client_secret(settings.secret_key)
    if post_auth:
        form = {**form, "client_id": CLIENT_ID, "client_secret": secret}
        return await http.post("/dev-idp/token", data=form)
    return await http.post("/dev-idp/token", data=form, auth=(CLIENT_ID, secret))


async def test_discovery_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/dev-idp/.well-known/openid-configuration")).json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/token" and document["jwks_uri"] == f"{ISSUER}/jwks"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["authorization_response_iss_parameter_supported"] is True


async def test_signing_key_is_private_on_disk_and_survives_a_restart(
        client: httpx.AsyncClient, settings: Settings) -> None:
    first = (await client.get("/dev-idp/jwks")).json()["keys"]
    assert len(first) == 1 and first[0]["kty"] == "RSA" and first[0]["kid"] and "d" not in first[0]
    assert stat.S_IMODE((settings.data_dir / KEY_FILE).stat().st_mode) == 0o600
    again = create_app(settings)
    transport = httpx.ASGITransport(app=again)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/dev-idp/jwks")).json()["keys"] == first
    await again.state.engine.dispose()


async def test_unknown_client_or_redirect_uri_stops_at_the_provider(client: httpx.AsyncClient) -> None:
    # RFC 6749 §4.1.2.1: never redirect to an unverified URI (no open redirect)
    for url in (authorize_url(client_id="someone-else"),
                authorize_url(redirect_uri="https://evil.example/callback")):
        response = await client.get(url)
        assert response.status_code == 400 and "location" not in response.headers
        assert "登录请求无效" in response.text


async def test_pkce_s256_and_nonce_are_required(client: httpx.AsyncClient) -> None:
    for changes in ({"code_challenge": None, "code_challenge_method": None},
                    {"code_challenge_method": "plain", "code_challenge": VERIFIER},
                    {"nonce": None}):
        response = await client.get(authorize_url(**changes))
        assert response.status_code == 303, changes
        params = query(response.headers["location"])
        assert params["error"] == "invalid_request" and params["state"] == "state-1"


async def test_choosing_is_csrf_protected_and_needs_an_identity(client: httpx.AsyncClient) -> None:
    page = await client.get(authorize_url())
    assert page.status_code == 200 and "张三" in page.text and "<legend>演示身份</legend>" in page.text
    refused = await client.post(authorize_url(), data={"login": "zhangsan", "decision": "allow"})
    assert refused.status_code == 403
    response = await choose_identity(client, authorize_url(), "")
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text and "请选择一个演示身份" in response.text
    assert 'href="#field-login"' in response.text and 'id="field-login"' in response.text


async def test_token_carries_the_identity_nonce_auth_time_and_acr(
        client: httpx.AsyncClient, settings: Settings) -> None:
    response = await redeem(client, settings, await issue_code(client, "lisi"))
    assert response.status_code == 200 and response.headers["cache-control"] == "private, no-store"
    keys = KeySet.import_key_set((await client.get("/dev-idp/jwks")).json())
    claims = jwt.decode(response.json()["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == ISSUER and claims["aud"] == [CLIENT_ID] and claims["nonce"] == "nonce-1"
    assert claims["sub"] == "demo-agent-lisi" and claims["name"] == "李四"
    assert claims["id_number"] == "350102199007154563"
    assert claims["org_name"] == "福州示例科技有限公司" and claims["org_credit_code"] == "91350100MA2XY12346"
    assert claims["acr"] == ACR and claims["exp"] - claims["iat"] <= 300
    assert abs(claims["auth_time"] - claims["iat"]) < 30


async def test_client_secret_post_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await redeem(client, settings, await issue_code(client), post_auth=True)
    assert response.status_code == 200 and "id_token" in response.json()


async def test_wrong_client_secret_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await redeem(client, settings, await issue_code(client), secret="wrong")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_wrong_code_verifier_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await redeem(client, settings, await issue_code(client), verifier="w" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_code_is_single_use(client: httpx.AsyncClient, settings: Settings) -> None:
    code = await issue_code(client)
    assert (await redeem(client, settings, code)).status_code == 200
    replay = await redeem(client, settings, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


async def test_concurrent_redemptions_of_one_code_give_one_token(
        client: httpx.AsyncClient, settings: Settings) -> None:
    code = await issue_code(client)
    responses = await asyncio.gather(*(redeem(client, settings, code) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 400, 400, 400, 400]


async def test_expired_code_is_refused(client: httpx.AsyncClient, settings: Settings,
                                       database: Database) -> None:
    code = await issue_code(client)
    async with database.sessions() as db, db.begin():
        await db.execute(update(DevIdpCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await redeem(client, settings, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
