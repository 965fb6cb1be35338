"""Per-client limits on public lookups: case codes, receipt checks, search, PDF verification.

``hit`` counts one request in the current fixed window with a single upsert (atomic on both
databases, so concurrent requests from many processes cannot slip past the limit) and says
whether it is allowed and, if not, when the window ends. ``hit_alone`` does the same as a
transaction of its own, in one statement on a pooled connection, for the public routes that
count every request. Clients are identified by an HMAC of their address so the table holds no
IP addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, delete, func, literal, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from portal.database import UTCDateTime, dialect_insert, lazy_commit, sqlite_lazy_statement, utcnow
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
    return _decision(limit, count, start, now)


async def hit_alone(engine: AsyncEngine, limit: Limit, client: str,
                    now: datetime | None = None) -> Decision:
    """``hit`` as a transaction of its own: one upsert that counts and returns the count, on a
    connection from the pool, without a session (on SQLite without BEGIN or COMMIT either),
    committed like ``lazy_commit``.

    Why not ``hit`` in a session: every public verification pays this count, and through the
    ORM session it took about 1,800 Python calls and nine hops to SQLite's thread (2.1 ms of
    CPU), a quarter of a small document's whole request. One statement is atomic on both
    databases, so concurrent requests from any number of processes or nodes still cannot
    slip past the limit; each statement is built once (``_postgresql_upsert``,
    ``_sqlite_upsert``)."""
    now = now or utcnow()
    start = _window_start(now, limit.window_seconds)
    key = f"{limit.bucket}:{client}"
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # in a transaction, not autocommit: asyncpg prepares a statement, then runs it, in
            # two messages, and between them PgBouncer in transaction pooling hands an idle
            # client's server connection to another (the statement then "does not exist")
            async with connection.begin():
                result = await connection.execute(_postgresql_upsert(), {"key": key, "window_start": start})
                count = int(result.scalar_one())
        else:
            statement, window_value = _sqlite_upsert(connection.dialect)
            rows = await sqlite_lazy_statement(connection, statement, (key, window_value(start)))
            count = int(rows[0][0])
    return _decision(limit, count, start, now)


_WINDOWS = cast(Table, RateLimitWindow.__table__)


@cache
def _postgresql_upsert() -> Any:
    """``INSERT … ON CONFLICT DO UPDATE … RETURNING count`` that also turns off
    ``synchronous_commit`` for its transaction, as ``lazy_commit``'s ``SET LOCAL`` does, in
    the same round trip: ``set_config(…, true)`` is local to the transaction."""
    table = _WINDOWS
    row = select(bindparam("key", type_=String()), bindparam("window_start", type_=UTCDateTime()),
                 literal(1)).where(func.set_config("synchronous_commit", "off", True) == "off")
    upsert = postgresql.insert(table).from_select(["key", "window_start", "count"], row)
    return upsert.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start], set_={"count": table.c.count + 1},
    ).returning(table.c.count)


@cache
def _sqlite_upsert(dialect: Dialect) -> tuple[str, Any]:
    """The SQLite upsert as SQL text with its parameters in order (key, window start), and
    the function that turns a window start into what the column stores (``UTCDateTime``)."""
    table = _WINDOWS
    one: ColumnElement[int] = literal_column("1")
    upsert = sqlite.insert(table).values(key=bindparam("key"), window_start=bindparam("window_start"),
                                         count=one)
    compiled = upsert.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start], set_={"count": table.c.count + one},
    ).returning(table.c.count).compile(dialect=dialect)
    if compiled.positiontup != ["key", "window_start"]:
        raise RuntimeError(f"unexpected parameters of the rate-limit upsert: {compiled.positiontup}")
    # the column type's processor as this dialect applies it (a text timestamp on SQLite): the
    # driver's own conversion of a datetime would store another text for the same window
    window_value = table.c.window_start.type.dialect_impl(dialect).bind_processor(dialect)
    if window_value is None:
        raise RuntimeError("UTCDateTime has no bind processor on SQLite")
    return compiled.string, window_value


def _decision(limit: Limit, count: int, start: datetime, now: datetime) -> Decision:
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
