"""Who is asking: the logged-in party of a page request (the agency of an API request lives
in ``web/api/bearer.py``).

Pages call ``require_user``; an anonymous visitor gets ``Unauthenticated``, which the error
handlers turn into a redirect to the login page. The acting party is what every service
filters by (SECURITY.md, "Access control").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request

from portal.errors import ReauthenticationRequired, Unauthenticated
from portal.web.request_context import actor_var
from portal.web.session import browser_session

FRESH_LOGIN_SECONDS = 10 * 60


@dataclass(frozen=True)
class CurrentUser:
    account_id: int
    person_id: int
    name: str
    acting_party_id: int
    acting_kind: str
    acting_name: str


def current_user(request: Request) -> CurrentUser | None:
    session = browser_session(request)
    data = session.data.get("user") if session else None
    if not data:
        return None
    user = CurrentUser(**data)
    actor_var.set(f"account:{user.account_id}")
    return user


def require_fresh_login(request: Request, path: str, within_seconds: int = FRESH_LOGIN_SECONDS) -> None:
    """Refuse unless the person logged in within ``within_seconds``; afterwards they come back
    to ``path`` (a GET page, so the form is shown again, never re-posted)."""
    session = browser_session(request)
    auth_time = session.data.get("auth_time") if session else None
    if not isinstance(auth_time, int | float) or time.time() - auth_time > within_seconds:
        if session is not None:
            session["after_login"] = path
        raise ReauthenticationRequired()


def require_user(request: Request) -> CurrentUser:
    user = current_user(request)
    if user is None:
        session = browser_session(request)
        if session is not None and request.method == "GET":
            session["after_login"] = request.url.path
        raise Unauthenticated()
    return user
