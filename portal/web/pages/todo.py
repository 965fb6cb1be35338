"""我的待办 (``/todo``): where login and the header's first link land.

What needs the acting party's attention, most urgent first, each item one tap from its task
(``services.todo``); with nothing to do, the page says so plainly. Reading it needs the
``mailbox`` scope, like the mailbox and the fines it summarises.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.services import todo
from portal.services.calendar import load_calendar
from portal.vocabulary import SCOPE_MAILBOX
from portal.web.auth import require_party
from portal.web.clock import request_now
from portal.web.rendering import render


async def index(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        items = await todo.todo(db, user.acting_party_id, request_now(request), await load_calendar(db))
    return render(request, "pages/todo.html", {"items": items})
