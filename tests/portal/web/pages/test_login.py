"""Citizen login through the embedded development identity provider, end to end over HTTP
(SECURITY.md, "Identity and sessions"): the page, the redirect chain, the session after it,
and every way the callback must refuse. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.dev_idp.server import ACR
from portal.logs import JsonFormatter
from portal.models import WebSession
from portal.web.auth import require_user
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import (
    assert_not_logged_in,
    callback_url,
    choose_identity,
    log_in,
    query,
    session_cookie,
    start_login,
)

FAILED = "登录未完成，请重新登录"


def another_browser(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_login_page_is_chinese_and_names_the_dev_provider(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text and "<h1>登录</h1>" in response.text
    assert "开发用身份认证服务" in response.text and "不进行真实身份核验" in response.text
    assert '<form method="post" action="/login"' in response.text and 'name="csrf_token"' in response.text
    assert response.headers["cache-control"] == "private, no-store"
    # the dev provider shares the portal's origin, so the form needs no wider form-action
    assert response.headers["content-security-policy"].endswith("form-action 'self'")


async def test_start_redirects_to_provider_with_pkce_state_and_nonce(client: httpx.AsyncClient) -> None:
    # v5.0.0-10.1.2: state, nonce and PKCE S256 on every authorization request
    params = query(await start_login(client))
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43 and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "http://testserver/auth/callback"


async def test_person_logs_in_and_gets_a_new_session_id(app: Starlette, client: httpx.AsyncClient) -> None:
    # v5.0.0-7.2.4: a new session token at login; the pre-login one no longer works
    authorize_url = await start_login(client)
    before = session_cookie(client)
    response = await choose_identity(client, authorize_url, "zhangsan")
    response = await client.get(response.headers["location"])
    assert response.status_code == 303 and response.headers["location"] == "/todo"
    after = session_cookie(client)
    assert before and after and before != after
    page = await client.get("/account")
    assert page.status_code == 200
    assert "张三" in page.text and "个人" in page.text
    assert "35010219850312123X" not in page.text  # the ID number is never shown back
    async with another_browser(app) as other:
        other.cookies.set("portal_session", before)
        await assert_not_logged_in(other)


async def test_agent_logs_in_acting_for_the_organisation(client: httpx.AsyncClient) -> None:
    response = await log_in(client, "lisi")
    assert response.status_code == 303
    page = await client.get("/account")
    assert "李四" in page.text
    assert "当前身份：福州示例科技有限公司（由 李四 代为办理）" in page.text
    assert "福州示例科技有限公司（单位）" in page.text


async def test_login_returns_to_the_page_that_asked_for_it(app: Starlette, client: httpx.AsyncClient) -> None:
    async def protected(request: Request) -> Response:
        return PlainTextResponse(f"你好，{require_user(request).name}")

    app.router.routes.append(Route("/protected-for-test", protected))
    response = await client.get("/protected-for-test")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    response = await log_in(client)
    assert response.headers["location"] == "/protected-for-test"
    assert (await client.get("/protected-for-test")).text == "你好，张三"


async def test_session_keeps_auth_time_and_acr(client: httpx.AsyncClient, database: Database) -> None:
    # v5.0.0-6.8.4: when the person authenticated, for later re-authentication checks
    await log_in(client)
    async with database.sessions() as db:
        rows = (await db.execute(select(WebSession).where(WebSession.ended_at.is_(None)))).scalars().all()
    data = next(row.data for row in rows if row.data.get("user"))
    assert abs(data["auth_time"] - time.time()) < 30
    assert data["acr"] == ACR
    assert "oidc_pending" not in data


@pytest.mark.parametrize("tamper", ["changed", "missing"])
async def test_tampered_state_is_refused(client: httpx.AsyncClient, tamper: str) -> None:
    # v5.0.0-10.1.2: the state is bound to this browser's session
    url = await callback_url(client)
    params = query(url)
    params["state"] = params["state"][:-2] + "xx" if tamper == "changed" else ""
    response = await client.get("/auth/callback", params=params)
    assert response.status_code == 400
    assert FAILED in response.text and "Traceback" not in response.text
    await assert_not_logged_in(client)


async def test_replayed_callback_fails(client: httpx.AsyncClient) -> None:
    url = await callback_url(client)
    assert (await client.get(url)).status_code == 303
    replay = await client.get(url)
    assert replay.status_code == 400 and FAILED in replay.text


async def test_callback_url_in_another_browser_is_useless(app: Starlette, client: httpx.AsyncClient) -> None:
    # a stolen or injected callback URL: no login in progress in that browser (login CSRF)
    url = await callback_url(client)
    async with another_browser(app) as other:
        response = await other.get(url)
        assert response.status_code == 400
        await assert_not_logged_in(other)
    assert (await client.get(url)).status_code == 303  # the rightful browser still can


async def test_cancel_at_the_provider_is_a_clear_failure(client: httpx.AsyncClient) -> None:
    response = await choose_identity(client, await start_login(client), "", decision="deny")
    assert query(response.headers["location"])["error"] == "access_denied"
    page = await client.get(response.headers["location"])
    assert page.status_code == 400
    assert FAILED in page.text and "例如您取消了登录" in page.text
    await assert_not_logged_in(client)


async def test_logout_then_replaying_the_old_cookie_is_not_logged_in(app: Starlette,
                                                                     client: httpx.AsyncClient) -> None:
    # v5.0.0-7.4.1: logout ends the session on the server, not only in the browser;
    # v5.0.0-14.3.3: and tells the browser to clear what it kept (Clear-Site-Data)
    await log_in(client)
    cookie = session_cookie(client)
    token = await csrf_from(client, "/account")
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["clear-site-data"]
    await assert_not_logged_in(client)
    async with another_browser(app) as replay:
        replay.cookies.set("portal_session", cookie or "")
        await assert_not_logged_in(replay)
        assert "退出登录" not in (await replay.get("/")).text


async def test_authentication_events_are_logged_without_personal_data(
        client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    # v5.0.0-16.2.x, 16.3.1: success and failure logged; no names or ID numbers
    caplog.set_level(logging.INFO)
    await log_in(client, "lisi")
    bad = query(await callback_url(client, "lisi"))
    await client.get("/auth/callback", params={**bad, "state": "forged"})
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"authentication succeeded"' in line and '"action": "login"' in line for line in lines)
    assert any('"authentication failed"' in line and '"reason": "state_unknown"' in line for line in lines)
    for personal in ("李四", "350102199007154563", "福州示例科技有限公司", "91350100MA2XY12346"):
        assert not any(personal in line for line in lines), personal
