"""A session ends after 30 idle minutes and 12 hours in all, whatever the cookie says
(SECURITY.md "Identity and sessions", v5.0.0-7.3.x): the row's clock decides, on the server."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from portal.database import transaction, utcnow
from portal.models.sessions import WebSession
from tests.conftest import Database
from tests.portal.web.login_flow import log_in
from tests.portal.web.test_login import assert_not_logged_in


@pytest.mark.parametrize(("column", "age"), [("last_seen_at", timedelta(minutes=31)),
                                             ("created_at", timedelta(hours=12, minutes=1))])
async def test_an_idle_or_old_session_is_logged_out(
        client: httpx.AsyncClient, database: Database, column: str, age: timedelta) -> None:
    await log_in(client, "zhangsan")
    assert (await client.get("/account")).status_code == 200
    async with transaction(database.sessions) as db:
        await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                         .values({column: utcnow() - age}))
    await assert_not_logged_in(client)
