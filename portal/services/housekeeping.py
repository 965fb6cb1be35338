"""Pruning the tables that anonymous requests fill, so none of them grows without bound
(issue 15 "Unbounded tables"; SECURITY.md "Deployment configuration").

- ``web_sessions``: every ``POST /login`` writes one (the login's state and PKCE verifier).
  A session is useless once ended, idle past the idle timeout or past its absolute lifetime
  (``web.session`` refuses it then), so its row goes.
- ``payment_security_events``: a refused payment callback is evidence of an attack or a
  fault; kept for 180 days, the six months China's Cybersecurity Law (art. 21) asks of network
  logs, then removed.
- ``rate_limit_windows``: a window matters only while it runs; a day later it goes.

Rows of legal significance are never touched here. How fast each table can fill is bounded
separately, per client (``POST /login`` and refused callbacks are rate-limited per address),
so between two rounds it stays small. The worker runs ``prune`` every
``INTERVAL_SECONDS`` (``workers.housekeeping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.payments import PaymentSecurityEvent
from portal.models.sessions import WebSession
from portal.services import rate_limits

INTERVAL_SECONDS = 600
SECURITY_EVENT_RETENTION = timedelta(days=180)
RATE_WINDOW_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Pruned:
    web_sessions: int
    security_events: int
    rate_windows: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def prune(db: AsyncSession, *, now: datetime, idle: timedelta, absolute: timedelta) -> Pruned:
    """Delete what no request can use any more; ``idle``/``absolute`` are the sessions'."""
    sessions = await db.execute(delete(WebSession).where(or_(
        WebSession.ended_at.is_not(None), WebSession.last_seen_at < now - idle,
        WebSession.created_at < now - absolute)))
    events = await db.execute(delete(PaymentSecurityEvent).where(
        PaymentSecurityEvent.occurred_at < now - SECURITY_EVENT_RETENTION))
    windows = await rate_limits.prune(db, now=now, older_than=RATE_WINDOW_RETENTION)
    return Pruned(_count(sessions), _count(events), windows)
