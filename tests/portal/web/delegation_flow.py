"""Drive delegation as people do, over HTTP: a second browser, granting from the account pages,
switching the acting party. Shared by the delegation tests and the authorisation matrix::

    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, await person_id(database, "张三"))
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from portal.database import utcnow
from portal.legal_calendar import china_date
from portal.models import Party
from tests.conftest import Database, csrf_from

WANGWU = {"delegate_name": "王五", "delegate_id_number": "350102197811037895"}
DELEGATION_LINK = re.compile(r"/account/delegations/(\d+)\?granted=1$")


def browser(app: Starlette) -> httpx.AsyncClient:
    """Another browser on the same app, with its own cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def grant(http: httpx.AsyncClient, scope: str = "mailbox", *, days: int = 30,
                fields: dict[str, str] | None = None) -> httpx.Response:
    """Post the grant form: to 王五 for ``days`` unless ``fields`` say otherwise."""
    form = {"csrf_token": await csrf_from(http, "/account/delegations"), **WANGWU, "scope": scope,
            "last_day": (china_date(utcnow()) + timedelta(days=days)).isoformat(), **(fields or {})}
    return await http.post("/account/delegations", data=form)


async def granted_id(http: httpx.AsyncClient, scope: str = "mailbox",
                     fields: dict[str, str] | None = None) -> int:
    """Grant (to 王五 unless ``fields`` name another) and return the new delegation's id."""
    response = await grant(http, scope, fields=fields)
    assert response.status_code == 303, response.text
    match = DELEGATION_LINK.search(response.headers["location"])
    assert match
    return int(match.group(1))


async def act_for(http: httpx.AsyncClient, party_id: int) -> None:
    token = await csrf_from(http, "/account")
    response = await http.post("/account/acting", data={"csrf_token": token, "party_id": str(party_id)})
    assert response.status_code == 303, response.text


async def person_id(database: Database, name: str) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(Party.id).where(Party.name == name))).scalar_one()
