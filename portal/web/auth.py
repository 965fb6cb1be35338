"""Who is asking: the logged-in party of a page request (the agency of an API request lives
in ``web/api/bearer.py``).

Pages call ``require_user``; an anonymous visitor gets ``Unauthenticated``, which the error
handlers turn into a redirect to the login page. The acting party is what every service
filters by (SECURITY.md, "Access control").

The session only remembers whom the person chose to act for; whether they still may is asked
again on every request that acts for a party (``require_party``), because a delegation can be
revoked or run out while the session lives. When it no longer holds, the session falls back
to the person themself and the next page says so: the principal's data is never shown on the
strength of an old choice. A delegate whose scope is too narrow for a route gets the same 404
as for a foreign id (nothing is revealed about what exists or what others may do).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from starlette.requests import Request

from portal.errors import NotFound, ReauthenticationRequired, Unauthenticated
from portal.logs import actor_var
from portal.services import delegations
from portal.services.identity import ActingParty
from portal.vocabulary import PERSON, SCOPE_FULL
from portal.web.session import BrowserSession, browser_session, page_session

FRESH_LOGIN_KEY = "fresh_login_required"
ACTING_NOTICE = "acting_notice"
"""Session key of the one-time notice that acting for another party has ended."""

log = logging.getLogger("portal.auth")


@dataclass(frozen=True)
class CurrentUser:
    account_id: int
    person_id: int
    name: str
    acting_party_id: int
    acting_kind: str
    acting_name: str
    scope: str | None = None
    """What the person may do for the acting party in this request, as ``require_party`` found
    it in the representations in force; never kept in the session."""

    @property
    def actor(self) -> str:
        """Who acted, and for whom, as legal events record it."""
        if self.acting_party_id == self.person_id:
            return f"party:{self.person_id}"
        return f"person:{self.person_id} for party:{self.acting_party_id}"

    def session_data(self) -> dict[str, Any]:
        data = asdict(self)
        del data["scope"]
        return data


def act_as(session: BrowserSession, user: CurrentUser, party: ActingParty) -> CurrentUser:
    """Remember in the session that the person now acts for ``party`` (already checked)."""
    acting = replace(user, acting_party_id=party.id, acting_kind=party.kind,
                     acting_name=party.name, scope=None)
    session["user"] = acting.session_data()
    return acting


def current_user(request: Request) -> CurrentUser | None:
    session = browser_session(request)
    data = session.data.get("user") if session else None
    if not data:
        return None
    user = CurrentUser(**data)
    actor_var.set(f"account:{user.account_id}")
    return user


def login_is_fresh(request: Request) -> bool:
    """Whether the person logged in within ``Settings.fresh_login_minutes``: the one rule for
    every legal act (consent, contacts, delegations, and every act filed on a case)."""
    session = browser_session(request)
    auth_time = session.data.get("auth_time") if session else None
    within = request.app.state.settings.fresh_login_minutes * 60
    return isinstance(auth_time, int | float) and time.time() - auth_time <= within


def require_fresh_login(request: Request, path: str) -> None:
    """Refuse unless ``login_is_fresh``; after the login the person comes back to ``path`` (a
    GET page, so the form is shown again, never re-posted; ``web.form_drafts`` refills it)."""
    if not login_is_fresh(request):
        session = browser_session(request)
        if session is not None:
            session["after_login"] = path
            session[FRESH_LOGIN_KEY] = True  # the next login asks the provider to authenticate again
        raise ReauthenticationRequired()


def require_user(request: Request) -> CurrentUser:
    user = current_user(request)
    if user is None:
        session = browser_session(request)
        if session is not None and request.method == "GET":
            session["after_login"] = request.url.path
        raise Unauthenticated()
    return user


async def require_acting(request: Request) -> CurrentUser:
    """The logged-in user with the acting party re-checked now, and its scope loaded."""
    user = require_user(request)
    async with request.app.state.sessions() as db:
        scope = await delegations.acting_scope(db, user.person_id, user.acting_party_id)
    if scope is None:
        session = page_session(request)
        log.info("acting party no longer represented", extra={
            "action": "acting_fallback", "object": f"party:{user.acting_party_id}"})
        user = act_as(session, user, ActingParty(user.person_id, PERSON, user.name))
        session[ACTING_NOTICE] = "representation_ended"
        scope = SCOPE_FULL
    return replace(user, scope=scope)


async def require_party(request: Request, need: Literal["mailbox", "full"]) -> CurrentUser:
    """``require_acting``, and a scope that covers ``need``; otherwise the 404 of a foreign id."""
    user = await require_acting(request)
    if need == SCOPE_FULL and user.scope != SCOPE_FULL:
        log.warning("refused: outside the delegated scope", extra={
            "action": "scope_refused", "object": f"party:{user.acting_party_id}"})
        raise NotFound()
    return user
