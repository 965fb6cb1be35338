"""Who is calling the agency API: the bearer-token guard in front of every agency route.

``require_agency(request, db)`` answers the ``AgencyPrincipal`` behind the request's
``Authorization: Bearer`` token, or raises: no usable credentials → ``Unauthenticated``
(``unauthenticated``, RFC 6750 §3.1: no error code in the challenge), a token that is malformed,
unknown, expired or whose client was revoked → ``InvalidToken`` (``invalid_token``). Both are
401 problem details with a ``WWW-Authenticate: Bearer`` challenge (``web/errors.py``); the
precise reason goes to the log only. The token is read from the header alone: RFC 6750 also
allows the form body and the query string, but a token in a URL ends up in logs and histories.

It takes the request's database session because the check is part of the request's one
transaction. authlib's ``ResourceProtector``/``BearerTokenValidator`` is not used: its
validation is synchronous and expects the token row already in hand, and loading that row is
the whole of the work; the async check in ``services.api_tokens`` gives the same outcomes.

``agency_endpoint`` wraps a handler ``(request, db, agency)`` into a Starlette endpoint that
opens the transaction, runs the guard and then the handler, so an agency route cannot forget
the guard. What the principal may see is the services' business: they filter by
``agency.agency_id`` and answer ``NotFound`` for anything else (SECURITY.md, 8.4.1).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from portal.database import transaction
from portal.errors import InvalidToken, Unauthenticated
from portal.logs import actor_var
from portal.services.api_tokens import AgencyPrincipal, check_token

log = logging.getLogger("portal.api.bearer")

AgencyHandler = Callable[[Request, AsyncSession, AgencyPrincipal], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


async def require_agency(request: Request, db: AsyncSession) -> AgencyPrincipal:
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        _refused("missing" if not scheme else "other_scheme")
        raise Unauthenticated()
    outcome = await check_token(db, credentials.strip())
    if isinstance(outcome, str):
        _refused(outcome)
        raise InvalidToken()
    actor_var.set(outcome.actor)
    return outcome


def agency_endpoint(handler: AgencyHandler) -> Endpoint:
    """The Starlette endpoint for an agency route: one transaction, the guard, then ``handler``."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        async with transaction(request.app.state.sessions) as db:
            agency = await require_agency(request, db)
            return await handler(request, db, agency)

    return endpoint


def _refused(reason: str) -> None:
    log.warning("bearer token refused", extra={"action": "api_auth", "reason": reason})
