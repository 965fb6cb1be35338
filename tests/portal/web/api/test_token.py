"""The token endpoint: OAuth2 client credentials (RFC 6749 §4.4, §5.1, §5.2) on authlib.

Every response here is also checked against the OpenAPI document by the ``api`` client.
"""

from __future__ import annotations

import base64
import hashlib
import logging

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from portal.app import create_app
from portal.database import Base, transaction
from portal.errors import ConfigurationError
from portal.services import agencies
from portal.services.agencies import NewClient
from portal.services.rate_limits import Limit
from portal.web.api import token as token_endpoint
from tests.conftest import Database, make_settings
from tests.portal.web.api.conftest import fetch_token

GRANT = {"grant_type": "client_credentials"}


def _is_token_error(response: httpx.Response, status: int, error: str) -> bool:
    body = response.json()
    return (response.status_code == status
            and response.headers["content-type"] == "application/json"  # RFC 6749 §5.2
            and response.headers["cache-control"] == "no-store"
            and body["error"] == body["code"] == error and body["status"] == status)


async def test_token_with_http_basic(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data=GRANT,
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "agency" and "refresh_token" not in body  # §4.4.3: none
    # v5.0.0-11.5.1: at least 128 bits from a CSPRNG; 32 bytes give 43 base64url characters
    assert len(body["access_token"]) >= 43
    assert response.headers["cache-control"] == "no-store"  # RFC 6749 §5.1
    assert response.headers["pragma"] == "no-cache"


async def test_token_with_client_secret_post(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data={
        **GRANT, "client_id": agency_a.client_id, "client_secret": agency_a.client_secret})
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def test_each_token_is_new(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    assert await fetch_token(api, agency_a) != await fetch_token(api, agency_a)


async def test_wrong_secret_is_invalid_client_401(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data=GRANT, auth=(agency_a.client_id, "wrong"))
    assert _is_token_error(response, 401, "invalid_client")
    # RFC 6749 §5.2: 401 with the challenge of the scheme the client used
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_wrong_secret_in_form_is_invalid_client(api: httpx.AsyncClient,
                                                      agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data={
        **GRANT, "client_id": agency_a.client_id, "client_secret": "wrong"})
    assert _is_token_error(response, 401, "invalid_client")


async def test_unknown_client_answers_like_a_wrong_secret(api: httpx.AsyncClient,
                                                          agency_a: NewClient) -> None:
    # no client-id enumeration: same status, headers and body apart from the request id
    unknown = await api.post("/api/v1/token", data=GRANT, auth=("ag_" + "0" * 24, "wrong"))
    wrong = await api.post("/api/v1/token", data=GRANT, auth=(agency_a.client_id, "wrong"))
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(unknown.json()) == strip(wrong.json())
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]


async def test_no_credentials_is_invalid_client(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/token", data=GRANT)
    assert _is_token_error(response, 401, "invalid_client")


async def test_revoked_client_gets_no_token(api: httpx.AsyncClient, agency_a: NewClient,
                                            database: Database) -> None:
    async with transaction(database.sessions) as db:
        await agencies.revoke_client(db, agency_a.client_id)
    response = await api.post("/api/v1/token", data=GRANT,
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert _is_token_error(response, 401, "invalid_client")


async def test_unsupported_grant_type_is_400(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data={"grant_type": "password"},
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert _is_token_error(response, 400, "unsupported_grant_type")
    assert "password" not in response.text  # nothing the caller sent is echoed


@pytest.mark.parametrize("body", [
    "scope=agency",                                            # no grant_type
    "grant_type=client_credentials&grant_type=client_credentials",  # repeated (§3.2)
])
async def test_malformed_form_is_invalid_request(api: httpx.AsyncClient, agency_a: NewClient,
                                                 body: str) -> None:
    response = await api.post("/api/v1/token", content=body,
                              auth=(agency_a.client_id, agency_a.client_secret),
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert _is_token_error(response, 400, "invalid_request")


async def test_json_body_is_invalid_request(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", json=GRANT,
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert _is_token_error(response, 400, "invalid_request")


async def test_two_authentication_methods_are_refused(api: httpx.AsyncClient,
                                                      agency_a: NewClient) -> None:
    # RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request
    response = await api.post("/api/v1/token", auth=(agency_a.client_id, agency_a.client_secret),
                              data={**GRANT, "client_secret": agency_a.client_secret})
    assert _is_token_error(response, 400, "invalid_request")


async def test_undecodable_basic_credentials_are_invalid_client(api: httpx.AsyncClient) -> None:
    garbage = base64.b64encode(b"\xff\xfe:\xff").decode()
    response = await api.post("/api/v1/token", data=GRANT,
                              headers={"authorization": f"Basic {garbage}"})
    assert _is_token_error(response, 401, "invalid_client")


async def test_unknown_scope_is_invalid_scope(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data={**GRANT, "scope": "agency admin"},
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert _is_token_error(response, 400, "invalid_scope")


async def test_oversized_token_request_is_413(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.post("/api/v1/token", data={**GRANT, "scope": "x" * 5000},
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_token_and_secret_are_stored_only_hashed(api: httpx.AsyncClient, agency_a: NewClient,
                                                       database: Database) -> None:
    # SECURITY.md: a copy of the database holds no working credential
    token = await fetch_token(api, agency_a)
    async with database.engine.connect() as connection:
        dump = []
        for table in Base.metadata.sorted_tables:
            rows = (await connection.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            dump += [str(value) for row in rows for value in row]
        stored = (await connection.execute(text("SELECT token_hash FROM api_tokens"))).scalars().all()
    assert token not in " ".join(dump) and agency_a.client_secret not in " ".join(dump)
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


async def test_refusals_are_logged_without_secrets(api: httpx.AsyncClient, agency_a: NewClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    # v5.0.0-16.3.1: authentication failures are logged; no secret ever is
    with caplog.at_level(logging.INFO, logger="portal.api.token"):
        await api.post("/api/v1/token", data=GRANT, auth=(agency_a.client_id, "not-the-secret"))
        await api.post("/api/v1/token", data=GRANT, auth=("ag_nobody", "guess"))
        await fetch_token(api, agency_a)
    refusals = [r for r in caplog.records if r.getMessage() == "client authentication refused"]
    assert [(r.reason, r.client_id) for r in refusals] == [  # type: ignore[attr-defined]
        ("wrong_secret", agency_a.client_id), ("unknown_client", "-")]
    assert any(r.getMessage() == "token issued" for r in caplog.records)
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert "not-the-secret" not in logged and agency_a.client_secret not in logged
    assert "ag_nobody" not in logged  # raw input is not logged, only ids that exist


async def test_public_url_must_be_https_or_loopback(database: Database, data_dir,
                                                    agency_a: NewClient) -> None:
    # OAuth 2 requires TLS (RFC 6749 §3.2): a portal published on plain http issues no tokens
    async def token_status(public_url: str) -> httpx.Response:
        app: Starlette = create_app(make_settings(database.url, data_dir, PUBLIC_URL=public_url,
                                                  PORTAL_MODE="development"))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://internal") as http:
            response = await http.post("/api/v1/token", data=GRANT,
                                       auth=(agency_a.client_id, agency_a.client_secret))
        await app.state.engine.dispose()
        return response

    assert (await token_status("https://portal.example")).status_code == 200
    with pytest.raises(ConfigurationError, match="PUBLIC_URL must be https"):
        make_settings(database.url, data_dir, PUBLIC_URL="http://portal.example")


async def test_failed_token_requests_are_rate_limited_per_address(
        api: httpx.AsyncClient, agency_a: NewClient, agency_b: NewClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # SECURITY.md "Business logic" (anti-automation, v5.0.0-2.4.1): failures are counted and,
    # once spent, the limit is checked before the secret is tried, so even the right one waits
    monkeypatch.setattr(token_endpoint, "TOKEN_FAILURES",
                        Limit("api_token_failures", requests=2, window_seconds=10**9))
    for _ in range(5):  # successes from one address (agencies behind one gateway)
        ok = await api.post("/api/v1/token", data=GRANT, auth=(agency_b.client_id, agency_b.client_secret))
        assert ok.status_code == 200  # ... do not use up the limit
    for _ in range(2):
        await api.post("/api/v1/token", data=GRANT, auth=(agency_a.client_id, "guess"))
    response = await api.post("/api/v1/token", data=GRANT,
                              auth=(agency_a.client_id, agency_a.client_secret))
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and int(response.headers["retry-after"]) > 0
