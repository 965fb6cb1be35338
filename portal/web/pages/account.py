"""The party's account page, switching the acting party, staying logged in, and logout.

An agent who may act for several parties (themself, an organisation) chooses which one they
are acting as; every later query filters by that choice. The choice is checked against the
representations in force (``services.identity.acting_party``), so a forged party id is a 404
like any foreign id (SECURITY.md, "Access control"); the page itself re-checks the choice
(``require_acting``), so a delegation that ended since shows as such here too.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.errors import NotFound
from portal.services import delegations, identity
from portal.web.auth import act_as, current_user, require_acting, require_user
from portal.web.rendering import render
from portal.web.session import browser_session, page_session

log = logging.getLogger("portal.auth")

_MAX_ID = 2**31 - 1  # the id column is a 32-bit integer: larger values cannot name a row


async def account(request: Request) -> Response:
    user = await require_acting(request)
    async with request.app.state.sessions() as db:
        parties = await identity.acting_parties(db, user.person_id)
        scopes = await delegations.acting_scopes(db, user.person_id)
        can_manage = await delegations.may_manage(db, user.person_id, user.acting_party_id)
    return render(request, "pages/account/index.html", {
        "me": user, "parties": parties, "scopes": scopes, "can_manage": can_manage})


async def switch_acting(request: Request) -> Response:
    user = require_user(request)
    raw = (await request.form()).get("party_id")
    party_id = int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else 0
    if not 0 < party_id <= _MAX_ID:
        raise NotFound()
    async with request.app.state.sessions() as db:
        party = await identity.acting_party(db, user.person_id, party_id)
    act_as(page_session(request), user, party)
    log.info("acting party switched", extra={"action": "switch_acting", "object": f"party:{party.id}"})
    return RedirectResponse("/account", status_code=303)


async def keep_alive(request: Request) -> Response:
    """继续使用 in the idle-timeout warning: a request that counts as activity (the session
    middleware has renewed the idle clock before this runs), answered 204 so the page stays
    as it is, with whatever is typed in it. Without a live session: the login page."""
    require_user(request)
    return Response(status_code=204)


async def logout(request: Request) -> Response:
    """End the session on the server and wipe what the browser kept (ASVS v5.0.0-7.4.1, 14.3.1)."""
    session = browser_session(request)
    if session is not None:
        if current_user(request) is not None:  # also names the account in the log line
            log.info("logged out", extra={"action": "logout"})
        session.end()
    response = RedirectResponse("/?logged_out=1", status_code=303)
    response.headers["clear-site-data"] = '"cache", "storage"'
    return response
