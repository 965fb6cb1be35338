"""A session ends after 30 idle minutes and 12 hours in all, whatever the cookie says
(SECURITY.md "Identity and sessions", v5.0.0-7.3.x): the row's clock decides, on the server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from portal.app import create_app
from portal.database import transaction, utcnow
from portal.models.sessions import WebSession
from portal.settings import ConfigurationError, load_settings
from tests.conftest import Database, csrf_from, make_settings
from tests.portal.web.login_flow import assert_not_logged_in, log_in


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


async def test_continuing_from_the_idle_warning_renews_the_idle_clock(
        client: httpx.AsyncClient, database: Database) -> None:
    # WCAG 2.2.1 (timing adjustable) with v5.0.0-7.3.1: the warning's 继续使用 is a POST that
    # counts as activity and leaves the page as it is (204); the absolute lifetime still holds
    await log_in(client, "zhangsan")
    page = (await client.get("/account")).text
    assert 'id="session-timeout"' in page and 'data-idle-seconds="1800"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    async with transaction(database.sessions) as db:
        await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                         .values(last_seen_at=utcnow() - timedelta(minutes=29)))
    kept = await client.post("/session/keepalive", data={"csrf_token": token})
    assert kept.status_code == 204 and kept.content == b""
    async with database.sessions() as db:
        seen = (await db.execute(select(WebSession.last_seen_at).where(WebSession.ended_at.is_(None)))
                ).scalar_one()
    assert utcnow() - seen < timedelta(minutes=1)  # idle since 继续使用, not for 29 minutes
    assert (await client.get("/account")).status_code == 200
    forged = await client.post("/session/keepalive")
    assert forged.status_code == 403  # a form like the others: CSRF-checked


async def test_no_idle_warning_without_a_login(client: httpx.AsyncClient) -> None:
    assert 'id="session-timeout"' not in (await client.get("/")).text
    assert (await client.post("/session/keepalive", data={"csrf_token": await csrf_from(client, "/")})
            ).headers["location"] == "/login"


async def test_a_deployment_sets_its_own_session_lifetimes(database: Database, data_dir: Path) -> None:
    # a service hall's shared terminals: 10 idle minutes, a fresh login within 5 for legal acts;
    # the page's warning follows the server's clock, and the server ends the session at 10
    settings = make_settings(database.url, data_dir, SESSION_IDLE_MINUTES="10", FRESH_LOGIN_MINUTES="5")
    assert (settings.session_idle_minutes, settings.fresh_login_minutes) == (10, 5)
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await log_in(http, "zhangsan")
            assert 'data-idle-seconds="600"' in (await http.get("/account")).text
            async with transaction(database.sessions) as db:
                await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                                 .values(last_seen_at=utcnow() - timedelta(minutes=11)))
            await assert_not_logged_in(http)
    finally:
        await app.state.notary.aclose()
        await app.state.engine.dispose()


@pytest.mark.parametrize("env", [{"SESSION_IDLE_MINUTES": "2"}, {"SESSION_IDLE_MINUTES": "abc"},
                                 {"SESSION_ABSOLUTE_HOURS": "48"},
                                 {"SESSION_IDLE_MINUTES": "120", "SESSION_ABSOLUTE_HOURS": "1"},
                                 {"FRESH_LOGIN_MINUTES": "0"}, {"FRESH_LOGIN_MINUTES": "45"}])
def test_incoherent_session_lifetimes_refuse_to_start(data_dir: Path, env: dict[str, str]) -> None:
    # an idle lifetime too short for the warning, a fresh login outliving its session: each is
    # named, so the operator knows which variable to fix
    with pytest.raises(ConfigurationError, match=next(iter(env)).split("_")[0]):
        load_settings({"DATA_DIR": str(data_dir), **env})
