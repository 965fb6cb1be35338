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
import pytest
from sqlalchemy import select

from portal import cli
from portal.database import transaction
from portal.models import Agency
from portal.services import agencies
from portal.services.agencies import NewClient
from portal.settings import Settings
from tests.builders import credit_code
from tests.conftest import Database
from tests.portal.web.api.conftest import PUBLIC_URL, bearer, fetch_token

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
    code, out, err = await _portal(database, data_dir, "agency", "create", "测试局",
                                   "--credit-code", credit_code("测试局"))
    assert code == 0, err
    printed = json.loads(out)
    assert printed["token_endpoint"] == f"{PUBLIC_URL}/api/v1/token"
    assert printed["credit_code"] == credit_code("测试局")

    # curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials .../api/v1/token
    response = await api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                              auth=(printed["client_id"], printed["client_secret"]))
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = await api.get("/api/v1/agency", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["agency_name"] == "测试局" and me.json()["client_id"] == printed["client_id"]
    assert me.json()["credit_code"] == credit_code("测试局")

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


async def _in_process(settings: Settings, capsys: pytest.CaptureFixture[str],
                      *args: str) -> tuple[int, str, str]:
    """A ``portal`` command run in this process (the same parser and command function as the
    console script, without the start-up of a new interpreter)."""
    parsed = cli.build_parser().parse_args(args)
    code = await parsed.func(settings, parsed)
    out, err = capsys.readouterr()
    return code, out, err


async def test_cli_records_an_agencys_credit_code_once(
        database: Database, settings: Settings, capsys: pytest.CaptureFixture[str],
        agency_b: NewClient) -> None:
    # seals are matched by the code, so a new agency needs one, a code names one
    # agency only and is never changed (a different code is a different legal person)
    code, out, err = await _in_process(settings, capsys, "agency", "create", "新设局")
    assert code == 2 and out == "" and "--credit-code" in err
    bad = await _in_process(settings, capsys, "agency", "create", "新设局",
                            "--credit-code", "11350100MB00000010")
    assert bad[0] == 2 and "统一社会信用代码无效" in bad[2]
    taken = await _in_process(settings, capsys, "agency", "create", "新设局", "--credit-code",
                              str(agency_b.credit_code))
    assert taken[0] == 2 and "已属于另一个执法机关" in taken[2]

    async with transaction(database.sessions) as db:  # an agency from before codes were kept
        await agencies.create_client(db, "老机关")
    second = await _in_process(settings, capsys, "agency", "create", "老机关")  # a second client: fine
    assert second[0] == 0 and json.loads(second[1])["credit_code"] is None
    code, out, err = await _in_process(settings, capsys, "agency", "credit-code", "老机关",
                                       credit_code("老机关").lower())
    assert code == 0, err
    assert json.loads(out)["credit_code"] == credit_code("老机关")  # normalised
    again = await _in_process(settings, capsys, "agency", "credit-code", "老机关", credit_code("另一个"))
    assert again[0] == 2 and "不能更改" in again[2]
    unknown = await _in_process(settings, capsys, "agency", "credit-code", "没有的机关",
                                credit_code("没有的机关"))
    assert unknown[0] == 2 and "不存在" in unknown[2]
    async with database.sessions() as db:
        recorded = (await db.execute(select(Agency.name, Agency.credit_code).order_by(Agency.name))).all()
    assert ("老机关", credit_code("老机关")) in recorded and all(name != "新设局" for name, _ in recorded)
