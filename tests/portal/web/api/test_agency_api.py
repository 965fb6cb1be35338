"""The bearer guard and the agency's own routes: who gets in, and who sees what.

SECURITY.md "Access control": an agency sees only its own data, and another agency's object
answers 404 exactly like one that does not exist (v5.0.0-8.4.1). Refusals are 401 problem
details with a Bearer challenge (RFC 6750 §3). Every response here is also checked against
the OpenAPI document by the ``api`` client.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from portal.database import transaction
from portal.services import agencies
from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.portal.web.api.conftest import bearer, fetch_token, new_client, stored_token


def _is_problem(response: httpx.Response, status: int, code: str) -> bool:
    return (response.status_code == status
            and response.headers["content-type"] == "application/problem+json"
            and response.json()["code"] == code and response.json()["status"] == status)


async def test_no_token_is_401_unauthenticated(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/agency")
    assert _is_problem(response, 401, "unauthenticated")
    # RFC 6750 §3.1: no error code when the request carried no credentials at all
    assert response.headers["www-authenticate"] == 'Bearer realm="portal"'
    assert response.headers["cache-control"] == "no-store"


async def test_other_auth_scheme_is_401_unauthenticated(api: httpx.AsyncClient,
                                                        agency_a: NewClient) -> None:
    response = await api.get("/api/v1/agency", auth=(agency_a.client_id, agency_a.client_secret))
    assert _is_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "a b c", "é" * 50, "A" * 5000])
async def test_garbage_token_is_401_invalid_token(api: httpx.AsyncClient, token: str) -> None:
    response = await api.get("/api/v1/agency",
                             headers={b"authorization": f"Bearer {token}".encode()})
    assert _is_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer realm="portal", error="invalid_token"'


async def test_expired_token_is_401_invalid_token(api: httpx.AsyncClient, agency_a: NewClient,
                                                  database: Database,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    token = await stored_token(database, agency_a, lifetime=timedelta(seconds=-1))
    with caplog.at_level(logging.WARNING, logger="portal.api.bearer"):
        response = await api.get("/api/v1/agency", headers=bearer(token))
    assert _is_problem(response, 401, "invalid_token")
    reasons = [r.reason for r in caplog.records if r.name == "portal.api.bearer"]  # type: ignore[attr-defined]
    assert reasons == ["expired"]


async def test_agency_token_reaches_its_identity(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.get("/api/v1/agency", headers=bearer(await fetch_token(api, agency_a)))
    assert response.status_code == 200
    body = response.json()
    assert body["agency_id"] == agency_a.agency_id and body["agency_name"] == agency_a.agency_name
    assert body["client_id"] == agency_a.client_id and body["scopes"] == ["agency"]
    expires = datetime.fromisoformat(body["token_expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert response.headers["cache-control"] == "no-store"


async def test_agency_lists_only_its_own_clients_without_secrets(
        api: httpx.AsyncClient, agency_a: NewClient, agency_b: NewClient,
        database: Database) -> None:
    second_a = await new_client(database, agency_a.agency_name)  # same agency, rotated client
    response = await api.get("/api/v1/agency/clients", headers=bearer(await fetch_token(api, agency_a)))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["client_id"], i["current"]) for i in items] == [
        (agency_a.client_id, True), (second_a.client_id, False)]
    assert agency_b.client_id not in response.text
    assert all(set(item) == {"client_id", "created_at", "revoked_at", "current"} for item in items)
    assert agency_a.client_secret not in response.text and second_a.client_secret not in response.text


async def test_agency_reads_its_own_client(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    response = await api.get(f"/api/v1/agency/clients/{agency_a.client_id}",
                             headers=bearer(await fetch_token(api, agency_a)))
    assert response.status_code == 200
    assert response.json()["client_id"] == agency_a.client_id
    assert response.json()["revoked_at"] is None


async def test_another_agencys_client_is_404_like_a_missing_one(
        api: httpx.AsyncClient, agency_a: NewClient, agency_b: NewClient,
        caplog: pytest.LogCaptureFixture) -> None:
    token_a = bearer(await fetch_token(api, agency_a))
    with caplog.at_level(logging.WARNING, logger="portal.agencies"):
        foreign = await api.get(f"/api/v1/agency/clients/{agency_b.client_id}", headers=token_a)
        missing = await api.get("/api/v1/agency/clients/ag_000000000000000000000000",
                                headers=token_a)
    assert _is_problem(foreign, 404, "not_found")  # never 403: existence does not leak
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(foreign.json()) == strip(missing.json())
    assert agency_b.agency_name not in foreign.text
    # the refused authorisation is logged (v5.0.0-16.3.2); the merely missing id is not
    refused = [r for r in caplog.records if r.name == "portal.agencies"]
    assert [(r.object, r.agency_id) for r in refused] == [  # type: ignore[attr-defined]
        (agency_b.client_id, agency_a.agency_id)]


async def test_revoked_clients_tokens_stop_working_at_once(
        api: httpx.AsyncClient, agency_a: NewClient, database: Database) -> None:
    other_a = await new_client(database, agency_a.agency_name)
    token, other_token = await fetch_token(api, agency_a), await fetch_token(api, other_a)
    assert (await api.get("/api/v1/agency", headers=bearer(token))).status_code == 200
    async with transaction(database.sessions) as db:
        revoked = await agencies.revoke_client(db, agency_a.client_id)
    assert revoked is not None and revoked.revoked_at is not None
    assert _is_problem(await api.get("/api/v1/agency", headers=bearer(token)), 401, "invalid_token")
    # the agency's other client is untouched, and sees the revocation
    response = await api.get(f"/api/v1/agency/clients/{agency_a.client_id}",
                             headers=bearer(other_token))
    assert response.status_code == 200 and response.json()["revoked_at"] is not None


async def test_revoking_twice_keeps_the_first_time(agency_a: NewClient, database: Database) -> None:
    async with transaction(database.sessions) as db:
        first = await agencies.revoke_client(db, agency_a.client_id)
    async with transaction(database.sessions) as db:
        second = await agencies.revoke_client(db, agency_a.client_id)
        assert await agencies.revoke_client(db, "ag_missing") is None
    assert first is not None and second is not None and first.revoked_at == second.revoked_at
