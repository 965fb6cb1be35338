"""The party's account page and logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.web.auth import require_user
from portal.web.rendering import render
from portal.web.session import browser_session


async def account(request: Request) -> Response:
    user = require_user(request)
    return render(request, "pages/account/index.html", {"me": user})


async def logout(request: Request) -> Response:
    """End the session on the server and wipe what the browser kept (ASVS v5.0.0-7.4.1, 14.3.1)."""
    session = browser_session(request)
    if session is not None:
        session.end()
    response = RedirectResponse("/?logged_out=1", status_code=303)
    response.headers["clear-site-data"] = '"cache", "storage"'
    return response
