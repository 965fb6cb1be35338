"""The security baseline every page and API route gets (SECURITY.md)."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.app import create_app
from tests.conftest import csrf_from, make_settings


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    # SECURITY.md "Browser side"; v5.0.0-3.4.x
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-request-id"]


async def test_home_page_is_chinese_and_accessible_markup(client: httpx.AsyncClient) -> None:
    # v5.0.0-3.4.3: htmx without eval; v5.0.0-14.3.1: no page snapshots in sessionStorage
    page = (await client.get("/")).text
    assert '<html lang="zh-CN">' in page
    assert 'href="#main"' in page and 'id="main"' in page  # skip link to the main landmark
    assert '"allowEval": false' in page and '"historyCacheSize": 0' in page


async def test_session_cookie_is_httponly_and_samesite_lax(client: httpx.AsyncClient) -> None:
    # v5.0.0-3.3.x: HttpOnly and SameSite=Lax always; Secure and __Host- behind https (below)
    response = await client.get("/")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; https turns on Secure and __Host-


async def test_https_public_url_gives_secure_host_cookie_and_hsts(database, data_dir) -> None:
    app = create_app(make_settings(database.url, data_dir, PUBLIC_URL="https://portal.example",
                                   PORTAL_MODE="development"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://portal.example") as http:
        response = await http.get("/")
    await app.state.engine.dispose()
    assert response.headers["set-cookie"].startswith("__Host-portal_session=")
    assert "Secure" in response.headers["set-cookie"]
    assert "max-age" in response.headers["strict-transport-security"]


async def test_form_post_without_csrf_token_is_refused_in_chinese(client: httpx.AsyncClient) -> None:
    # v5.0.0-3.5.1: every unsafe request from a page carries the token
    response = await client.post("/logout", data={"anything": "1"})
    assert response.status_code == 403
    assert "页面已过期" in response.text


async def test_form_post_with_wrong_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/")
    response = await client.post("/logout", data={"csrf_token": "0" * 64})
    assert response.status_code == 403


async def test_htmx_header_token_is_accepted(client: httpx.AsyncClient) -> None:
    token = await csrf_from(client, "/")
    response = await client.post("/logout", headers={"X-CSRF-Token": token})
    assert response.status_code in (200, 303)


async def test_forged_session_cookie_is_just_no_session(client: httpx.AsyncClient) -> None:
    client.cookies.set("portal_session", "eyJmb3JnZWQiOnRydWV9.forgedsignature")
    response = await client.get("/")
    assert response.status_code == 200
    assert "退出登录" not in response.text  # not logged in
    assert "portal_session=" in response.headers["set-cookie"]  # a fresh, genuine session


async def test_oversized_body_is_413_with_chinese_page(client: httpx.AsyncClient, app: Starlette) -> None:
    # v5.0.0-5.1.1
    limit = app.state.settings.max_body_bytes
    response = await client.post("/logout", content=b"x" * (limit + 1),
                                 headers={"content-type": "application/octet-stream"})
    assert response.status_code == 413
    assert "提交的内容过大" in response.text


async def test_oversized_api_body_is_problem_details(client: httpx.AsyncClient, app: Starlette) -> None:
    limit = app.state.settings.max_body_bytes
    response = await client.post("/api/v1/token", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


async def test_large_urlencoded_form_is_refused(client: httpx.AsyncClient, app: Starlette) -> None:
    token = await csrf_from(client, "/")
    big = "a" * (app.state.settings.max_form_bytes + 10)
    response = await client.post("/logout", data={"csrf_token": token, "text": big})
    assert response.status_code == 413


async def test_non_utf8_form_is_a_clear_400(client: httpx.AsyncClient) -> None:
    token = await csrf_from(client, "/")
    body = f"csrf_token={token}&name=%C0%AF%FF".encode()
    response = await client.post("/logout", content=body,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert "UTF-8" in response.text


async def test_unknown_page_is_a_chinese_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text and "Traceback" not in response.text


async def test_crash_shows_chinese_500_without_stack_trace(database, data_dir) -> None:
    app = create_app(make_settings(database.url, data_dir))

    async def boom(request: Request) -> Response:
        raise RuntimeError("secret internals: 35010219850312123X")

    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom")
    await app.state.engine.dispose()
    assert response.status_code == 500
    assert "系统暂时无法处理您的请求" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_healthz_reports_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_when_database_is_down(data_dir) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    app = create_app(make_settings(url, data_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        response = await http.get("/healthz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


async def test_api_responses_set_no_session_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


async def test_access_log_names_route_patterns_not_the_codes_in_paths(
        client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    # SECURITY.md: no personal data in logs. A case code in /c/{code} opens a case's public
    # status; a mistyped path can hold an ID number: neither is written to the access log.
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.get("/c/ABCD2345EFGH6789")
        await client.get("/35010219850312123X")
        await client.get("/static/vendor/htmx.min.js")
    paths = [record.__dict__["path"] for record in caplog.records if record.name == "portal.access"]
    assert paths == ["/c/{code}", "(no route)", "/static/…"]
    assert "ABCD2345EFGH6789" not in caplog.text and "35010219850312123X" not in caplog.text
