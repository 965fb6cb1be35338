"""Drive a login through the embedded development identity provider as a browser without
JavaScript would: follow each redirect by hand, read each form, post it with its CSRF token.

Shared by the login tests and by any test that needs a logged-in client::

    response = await log_in(client, "lisi")   # 303 to /account, session cookie replaced
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, text

from portal.models import Party
from tests.conftest import CSRF_RE, Database
from tests.identities import ZHANGSAN

FORM_ACTION_RE = re.compile(r'<form method="post" action="([^"]+)"')


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def session_cookie(http: httpx.AsyncClient) -> str | None:
    return http.cookies.get("portal_session")


async def start_login(http: httpx.AsyncClient) -> str:
    """Open the login page and press its button: the provider URL the portal redirects to."""
    page = await http.get("/login")
    assert page.status_code == 200
    match = CSRF_RE.search(page.text)
    assert match, "no CSRF token on the login page"
    response = await http.post("/login", data={"csrf_token": match.group(1)})
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def choose_identity(http: httpx.AsyncClient, authorize_url: str, login: str,
                          decision: str = "allow") -> httpx.Response:
    """On the dev provider's page, pick a demo identity (or cancel): its redirect response."""
    page = await http.get(authorize_url)
    assert page.status_code == 200, page.text
    assert "开发用身份认证服务：仅用于演示和测试，不进行真实身份核验" in page.text
    token = CSRF_RE.search(page.text)
    action = FORM_ACTION_RE.search(page.text)
    assert token and action
    return await http.post(html.unescape(action.group(1)),
                           data={"csrf_token": token.group(1), "login": login, "decision": decision})


async def callback_url(http: httpx.AsyncClient, login: str = "zhangsan") -> str:
    """Everything up to (not including) the browser's return to the portal's callback."""
    response = await choose_identity(http, await start_login(http), login)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def log_in(http: httpx.AsyncClient, login: str = "zhangsan") -> httpx.Response:
    """The whole login; returns the callback's response (303 onwards when it worked)."""
    return await http.get(await callback_url(http, login))


async def party_id_of(database: Database, id_number: str = ZHANGSAN.id_number) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(Party.id).where(Party.id_number == id_number))).scalar_one()


async def age_login(database: Database) -> None:
    """Pretend the login happened long ago (the session keeps its auth time)."""
    async with database.engine.begin() as connection:
        rows = (await connection.execute(text("SELECT token_hash, data FROM web_sessions"))).all()
        for row in rows:
            data = row.data if isinstance(row.data, dict) else json.loads(row.data)
            if "user" in data:
                data["auth_time"] = 0
                await connection.execute(
                    text("UPDATE web_sessions SET data = :d WHERE token_hash = :h"),
                    {"d": json.dumps(data), "h": row.token_hash})


async def assert_not_logged_in(http: httpx.AsyncClient) -> None:
    response = await http.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/login"
