"""The bell in the header: how many in-portal notices the acting party has not read yet.

Every page's header carries the bell (``templates/base.html``), and a page must work without
JavaScript (STYLE.md 11), so the number has to be in the HTML the server sends. Pages do not
each ask for it: ``NoticeCountMiddleware`` counts once per page request of a logged-in person
and leaves the number in the request state, where the header reads it. On top of that, htmx
refreshes the bell every 30 seconds from ``BELL_PATH``, which answers the bell's block only
(``pages/notifications.py``).

That refresh is a background poll, not the person doing something, so ``create_app`` lists
``BELL_PATH`` among the session's passive paths: an open tab must not keep a session alive past
its idle timeout (SECURITY.md, "Identity and sessions", v5.0.0-7.3.1).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.services import delegations, notices
from portal.web.session import browser_session

BELL_PATH = "/notices/bell"
_STATE_KEY = "unread_notices"
# Machine clients and files: no header is rendered, so nothing to count.
_NO_HEADER_PREFIXES = ("/api/", "/static/")


def unread_notices(conn: HTTPConnection) -> int | None:
    """The count the middleware left for this request; None when nobody is logged in."""
    value = conn.scope.get("state", {}).get(_STATE_KEY)
    return value if isinstance(value, int) else None


class NoticeCountMiddleware:
    """Counts the acting party's unread notices before the endpoint runs.

    Endpoints that mark notices read answer with a 303, and the GET that follows counts again,
    so a page never shows the number from before its own change. A form shown again with
    errors after a POST carries the number too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_NO_HEADER_PREFIXES):
            await self._count(HTTPConnection(scope))
        await self.app(scope, receive, send)

    async def _count(self, conn: HTTPConnection) -> None:
        session = browser_session(conn)
        user = session.data.get("user") if session is not None else None
        if not isinstance(user, dict):
            return
        person_id, party_id = user.get("person_id"), user.get("acting_party_id")
        if not isinstance(person_id, int) or not isinstance(party_id, int):
            return
        async with conn.app.state.sessions() as db:
            # A delegation may have ended while the session lives: then not even the
            # principal's count is shown (the page itself falls back, ``auth.require_acting``).
            if await delegations.acting_scope(db, person_id, party_id) is None:
                return
            count = await notices.unread_count(db, party_id)
        conn.scope.setdefault("state", {})[_STATE_KEY] = count
