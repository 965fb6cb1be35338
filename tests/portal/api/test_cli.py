"""The issue's "done when", end to end: credentials printed by the real ``portal agency create``
command get a token that reaches a protected route; without a token, or with another agency's
token on its data, the answer is a problem-details 401/404; ``portal agency revoke`` ends it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx

from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.portal.api.conftest import PUBLIC_URL, bearer, fetch_token

PORTAL = Path(sys.executable).with_name("portal")  # the console script of this virtualenv


async def _portal(database: Database, data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database.url, "DATA_DIR": str(data_dir),
           "PUBLIC_URL": PUBLIC_URL, "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        str(PORTAL), *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_credentials_reach_a_protected_route(api: httpx.AsyncClient, database: Database,
                                                       data_dir: Path, agency_b: NewClient) -> None:
    code, out, err = await _portal(database, data_dir, "agency", "create", "测试局")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["token_endpoint"] == f"{PUBLIC_URL}/api/v1/token"

    # curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials .../api/v1/token
    response = await api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                              auth=(printed["client_id"], printed["client_secret"]))
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = await api.get("/api/v1/agency", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["agency_name"] == "测试局" and me.json()["client_id"] == printed["client_id"]

    without = await api.get("/api/v1/agency")
    assert without.status_code == 401
    assert without.headers["content-type"] == "application/problem+json"
    foreign = await api.get(f"/api/v1/agency/clients/{printed['client_id']}",
                            headers=bearer(await fetch_token(api, agency_b)))
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"

    code, out, err = await _portal(database, data_dir, "agency", "revoke", printed["client_id"])
    assert code == 0, err
    assert json.loads(out)["client_id"] == printed["client_id"]
    after = await api.get("/api/v1/agency", headers=bearer(token))
    assert after.status_code == 401 and after.json()["code"] == "invalid_token"


async def test_cli_revoke_of_an_unknown_client_fails(database: Database, data_dir: Path) -> None:
    code, out, err = await _portal(database, data_dir, "agency", "revoke", "ag_nonexistent")
    assert code == 1 and out == ""
    assert "ag_nonexistent" in err
