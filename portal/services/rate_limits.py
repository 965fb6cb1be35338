"""Per-client limits on public lookups: case codes, receipt checks, search, PDF verification.

``hit`` counts one request in the current fixed window with a single upsert (atomic on both
databases, so concurrent requests from many processes cannot slip past the limit) and says
whether it is allowed and, if not, when the window ends. Clients are identified by an HMAC of
their address so the table holds no IP addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import dialect_insert, lazy_commit, utcnow
from portal.models.limits import RateLimitWindow


@dataclass(frozen=True)
class Limit:
    bucket: str
    requests: int
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int


def client_key(secret: str, address: str) -> str:
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


async def hit(db: AsyncSession, limit: Limit, client: str, now: datetime | None = None) -> Decision:
    """Count one request, in a transaction that writes nothing else (``web.client``): that
    transaction's commit does not wait for the disk (``database.lazy_commit``), the slowest
    part of a public lookup on a plain disk; a crash can forget the last fraction of a second
    of counts, which only lets a client a few more requests."""
    now = now or utcnow()
    await lazy_commit(db)
    start = _window_start(now, limit.window_seconds)
    key = f"{limit.bucket}:{client}"
    upsert = dialect_insert(db, RateLimitWindow).values(key=key, window_start=start, count=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": RateLimitWindow.count + 1},
    )
    count = (await db.execute(upsert.returning(RateLimitWindow.count))).scalar_one()
    retry_after = int((start + timedelta(seconds=limit.window_seconds) - now).total_seconds()) + 1
    return Decision(count <= limit.requests, count, max(1, retry_after))


async def standing(db: AsyncSession, limit: Limit, client: str, now: datetime | None = None) -> Decision:
    """Whether ``client`` is within ``limit`` now, counting nothing: for limits that count only
    some requests (failed token requests) and must refuse the rest once those ran out."""
    now = now or utcnow()
    start = _window_start(now, limit.window_seconds)
    row = await db.get(RateLimitWindow, (f"{limit.bucket}:{client}", start))
    count = row.count if row is not None else 0
    retry_after = int((start + timedelta(seconds=limit.window_seconds) - now).total_seconds()) + 1
    return Decision(count < limit.requests, count, max(1, retry_after))


async def prune(db: AsyncSession, *, now: datetime | None = None,
                older_than: timedelta = timedelta(days=1)) -> int:
    """Forget windows that ended long ago (``services.housekeeping`` calls this)."""
    result = await db.execute(delete(RateLimitWindow).where(
        RateLimitWindow.window_start < (now or utcnow()) - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
