"""The client address used for rate limits, and the guard pages and public API routes call.

The address comes from the socket, or from ``X-Forwarded-For`` only when the operator says how
many proxies in front are trusted (``TRUSTED_PROXY_HOPS``): a client cannot pick its own
address to dodge a limit (ASVS v5.0.0-15.3.4).

The verification workers' fairness counts citizens by that address too (``client_key``), but
an agency API call by its credential (``api_client_key``): the agencies' systems reach the
portal through a few government gateways, and counted by address every agency behind one
gateway would share one place in the workers' line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from portal.database import transaction
from portal.errors import RateLimited
from portal.services import rate_limits

log = logging.getLogger("portal.limits")


def client_address(request: Request) -> str:
    hops = request.app.state.settings.trusted_proxy_hops
    forwarded = request.headers.get("x-forwarded-for", "")
    if hops > 0 and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(addresses) >= hops:
            return addresses[-hops]
    elif forwarded:
        _warn_proxy_not_trusted()
    return request.client.host if request.client else "unknown"


@cache
def _warn_proxy_not_trusted() -> None:
    """Say once per process that requests carry ``X-Forwarded-For`` while no proxy is trusted:
    behind a proxy every citizen then shares the proxy's address, hence one rate limit and one
    place in the verification workers' fair queue. (A client may send the header itself, so
    this is a hint to the operator, never a reason to trust the header.)"""
    log.warning("requests carry X-Forwarded-For but TRUSTED_PROXY_HOPS is 0: rate limits and "
                "verification fairness count every client behind the proxy as one; set "
                "TRUSTED_PROXY_HOPS to the number of proxies in front of the portal")


async def enforce(request: Request, limit: rate_limits.Limit) -> None:
    """Count this request against ``limit``; raise ``RateLimited`` (429) when over it. The
    count is one statement on its own (``rate_limits.hit_alone``), not a session's transaction:
    every public verification pays it."""
    _refuse_over(limit, await rate_limits.hit_alone(request.app.state.engine, limit,
                                                    client_key(request)))


async def count(request: Request, db: AsyncSession, limit: rate_limits.Limit) -> None:
    """``enforce`` inside the caller's transaction, for a request that only reads otherwise
    (one transaction instead of two; a refused request then goes uncounted)."""
    _refuse_over(limit, await rate_limits.hit(db, limit, client_key(request)))


@asynccontextmanager
async def public_read(request: Request,
                      limit: rate_limits.Limit | None = None) -> AsyncIterator[AsyncSession]:
    """A session for an anonymous public read (publicity, public case status), counted against
    ``limit`` when one is given.

    With a read replica (``DATABASE_REPLICA_URL``) the count is a short transaction on the
    primary and the read goes to the replica; a replica that cannot be reached is logged and
    the primary answers instead, so the public never waits for it. Without one, the count and
    the read are one transaction on the primary.
    """
    state = request.app.state
    if state.replica_sessions is None:
        async with transaction(state.sessions) as db:
            if limit is not None:
                await count(request, db, limit)
            yield db
        return
    if limit is not None:
        await enforce(request, limit)
    replica = state.replica_sessions()
    try:
        await replica.connection()
    except (OSError, DBAPIError, TimeoutError):
        await replica.close()
        log.warning("read replica unreachable: the primary answers", exc_info=True)
        async with state.sessions() as db:
            yield db
        return
    async with replica as db:
        yield db


async def refuse_when_spent(request: Request, limit: rate_limits.Limit) -> None:
    """Raise ``RateLimited`` when this client already used up ``limit``, counting nothing;
    with ``count_failure`` for limits that count only what failed."""
    async with request.app.state.sessions() as db:
        _refuse_over(limit, await rate_limits.standing(db, limit, client_key(request)))


async def count_failure(request: Request, limit: rate_limits.Limit) -> None:
    """Count one failed attempt against ``limit`` (the answer is the failure, not a 429)."""
    await rate_limits.hit_alone(request.app.state.engine, limit, client_key(request))


def client_key(request: Request) -> str:
    """The client as rate limits and the verification workers' fairness count it: its address
    (``client_address``) under a keyed hash, so no address is stored or passed on."""
    return rate_limits.client_key(request.app.state.settings.secret_key, client_address(request))


def api_client_key(request: Request, client_id: str) -> str:
    """The agency API client ``client_id`` as the verification workers' fairness counts it:
    one place in their line per credential, wherever its calls come from. Keyed like
    ``client_key``, in a namespace of its own (no address reads ``api-client:…``), so it never
    equals an address's key."""
    return rate_limits.client_key(request.app.state.settings.secret_key, f"api-client:{client_id}")


def _refuse_over(limit: rate_limits.Limit, decision: rate_limits.Decision) -> None:
    if not decision.allowed:
        log.warning("rate limit hit", extra={"action": limit.bucket, "count": decision.count})
        raise RateLimited(decision.retry_after)
