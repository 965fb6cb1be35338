"""The personal-information notice (个人信息处理规则; PIPL art. 7, 17, 19): ``GET /privacy``.

Public and linked where information is first collected (the login page, the e-service
confirmation) and from every page's footer. What is kept how long is rendered from
``portal.retention`` with this deployment's session settings, the same values the housekeeping
job and the sessions obey, so the page cannot promise a period the code does not keep.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal import retention
from portal.catalogue import PRIVACY
from portal.web.rendering import render


async def notice(request: Request) -> Response:
    settings = request.app.state.settings
    return render(request, "pages/privacy/notice.html", {
        "kept": retention.kept(session_idle_minutes=settings.session_idle_minutes),
        "words": PRIVACY, "session_absolute_hours": settings.session_absolute_hours,
    })
