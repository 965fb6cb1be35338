"""Switching the acting party (SECURITY.md, "Access control"; ASVS v5.0.0-8.2.2): an agent
may act for themself or for a party they represent now, and for nobody else; any other party
id is a 404, as a foreign id is everywhere. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from portal.database import utcnow
from portal.models import Party, Representation
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import log_in

PARTY_RADIO_RE = re.compile(r'name="party_id" value="(\d+)" id="party-\d+"\s*(checked)?')


async def party_id(database: Database, name: str) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(Party.id).where(Party.name == name))).scalar_one()


async def switch(http: httpx.AsyncClient, value: str) -> httpx.Response:
    token = await csrf_from(http, "/account")
    return await http.post("/account/acting", data={"csrf_token": token, "party_id": value})


async def test_agent_switches_between_organisation_and_self(client: httpx.AsyncClient,
                                                            database: Database) -> None:
    await log_in(client, "lisi")
    page = (await client.get("/account")).text
    choices = PARTY_RADIO_RE.findall(page)
    assert len(choices) == 2 and "<legend>以哪个身份办理事务</legend>" in page
    organisation = await party_id(database, "福州示例科技有限公司")
    assert (str(organisation), "checked") in choices
    myself = await party_id(database, "李四")
    response = await switch(client, str(myself))
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert "当前身份：李四" in (await client.get("/account")).text
    await switch(client, str(organisation))
    assert "当前身份：福州示例科技有限公司" in (await client.get("/account")).text


async def test_person_without_representations_sees_no_switch(client: httpx.AsyncClient) -> None:
    await log_in(client, "zhangsan")
    assert "切换办理身份" not in (await client.get("/account")).text


async def test_cannot_switch_to_a_party_not_represented(app: Starlette, client: httpx.AsyncClient,
                                                        database: Database) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await log_in(other, "zhangsan")  # another person, now a party in the database
    await log_in(client, "lisi")
    stranger = await party_id(database, "张三")
    response = await switch(client, str(stranger))
    assert response.status_code == 404 and "页面不存在" in response.text
    assert "当前身份：福州示例科技有限公司" in (await client.get("/account")).text


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "99999999999999999999", "１"])
async def test_malformed_party_id_is_404(client: httpx.AsyncClient, value: str) -> None:
    await log_in(client, "lisi")
    assert (await switch(client, value)).status_code == 404


async def test_revoked_or_ended_representation_no_longer_counts(client: httpx.AsyncClient,
                                                                database: Database) -> None:
    await log_in(client, "lisi")
    myself = await party_id(database, "李四")
    organisation = await party_id(database, "福州示例科技有限公司")
    await switch(client, str(myself))
    async with database.sessions() as db, db.begin():
        await db.execute(update(Representation).values(ends_at=utcnow() - timedelta(minutes=1)))
    assert (await switch(client, str(organisation))).status_code == 404
    assert "切换办理身份" not in (await client.get("/account")).text


async def test_switch_needs_login_and_csrf_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/account/acting", data={"csrf_token": await csrf_from(client, "/login"),
                                                           "party_id": "1"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    await log_in(client, "lisi")
    assert (await client.post("/account/acting", data={"party_id": "1"})).status_code == 403
