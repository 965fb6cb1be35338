"""No answer that depends on a session may be kept by a shared cache (``/`` once
was ``public, max-age=60`` for logged-in users while it held their name and CSRF token).
SECURITY.md "Deployment configuration" and "Browser side", v5.0.0-14.3.x (14.3.2)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tests.portal.web.login_flow import log_in


def _plain_get_paths(app: Starlette) -> list[str]:
    """Every GET page without a path parameter (the API is stateless, tested elsewhere)."""
    return sorted(route.path for route in app.routes
                  if isinstance(route, Route) and "GET" in (route.methods or ())
                  and "{" not in route.path and not route.path.startswith("/api/"))


async def test_every_page_is_private_no_store_for_visitors_and_logged_in_users(
        app: Starlette, client: httpx.AsyncClient) -> None:
    paths = _plain_get_paths(app)
    assert "/" in paths and "/publicity" in paths and len(paths) >= 15
    for who in ("visitor", "zhangsan"):
        if who != "visitor":
            await log_in(client, who)
        for path in paths:
            response = await client.get(path)
            cache = response.headers.get("cache-control", "")
            assert cache == "private, no-store", (who, path, response.status_code, cache)


async def test_a_cookie_is_never_set_on_a_publicly_cacheable_answer(client: httpx.AsyncClient) -> None:
    discovery = "/dev-idp/.well-known/openid-configuration"  # public by its endpoint's choice
    first = await client.get(discovery)  # a first visit: a session cookie is set
    assert "set-cookie" in first.headers and first.headers["cache-control"] == "private, no-store"
    again = await client.get(discovery)  # the same anonymous visitor, no new cookie
    assert "set-cookie" not in again.headers and again.headers["cache-control"].startswith("public")
    await log_in(client, "zhangsan")
    assert (await client.get(discovery)).headers["cache-control"] == "private, no-store"


async def test_static_files_carry_no_session(app: Starlette, client: httpx.AsyncClient) -> None:
    assert any(isinstance(route, Mount) and route.path == "/static" for route in app.routes)
    response = await client.get("/static/portal.css")
    assert response.status_code == 200 and "set-cookie" not in response.headers
