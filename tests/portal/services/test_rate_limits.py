"""Per-client limits on public lookups hold under concurrency (SECURITY.md v5.0.0-2.4.1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import create_engine, session_factory, transaction
from portal.services import rate_limits
from tests.conftest import Database

LIMIT = rate_limits.Limit("test_lookup", requests=10, window_seconds=60)


async def _hit(database: Database, client: str, now: datetime,
               alone: bool = False) -> rate_limits.Decision:
    if alone:
        return await rate_limits.hit_alone(database.engine, LIMIT, client, now)
    async with transaction(database.sessions) as db:
        return await rate_limits.hit(db, LIMIT, client, now)


# ``hit`` counts in the caller's transaction, ``hit_alone`` (the public routes) in a statement
# of its own: both must keep the same promises.
@pytest.mark.parametrize("alone", [False, True], ids=["in-transaction", "alone"])
async def test_limit_allows_exactly_n_even_when_concurrent(database: Database, alone: bool) -> None:
    now = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    decisions = await asyncio.gather(*(_hit(database, "client-a", now, alone) for _ in range(25)))
    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert all(d.retry_after == 31 for d in refused)  # until the window ends, whole seconds


@pytest.mark.parametrize("alone", [False, True], ids=["in-transaction", "alone"])
async def test_clients_and_windows_are_independent(database: Database, alone: bool) -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    for _ in range(10):
        await _hit(database, "client-a", now, alone)
    assert not (await _hit(database, "client-a", now, alone)).allowed
    assert (await _hit(database, "client-b", now, alone)).allowed
    assert (await _hit(database, "client-a", now + timedelta(seconds=60), alone)).allowed


async def test_both_ways_count_the_same_window(database: Database) -> None:
    """One row per client and window whichever way counts it, under the hashed key only."""
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    for alone in (False, True, False, True):
        await _hit(database, "client-a", now, alone)
    async with database.sessions() as db:
        rows = (await db.execute(text("SELECT key, count FROM rate_limit_windows"))).all()
    assert [tuple(row) for row in rows] == [("test_lookup:client-a", 4)]


def test_client_key_hides_the_address() -> None:
    key = rate_limits.client_key("s" * 40, "203.0.113.7")
    assert "203" not in key and len(key) == 32
    assert key != rate_limits.client_key("t" * 40, "203.0.113.7")


async def _durability(db: AsyncSession) -> str:
    """Whether this transaction's commit waits for the disk: PostgreSQL's
    ``synchronous_commit``, SQLite's ``synchronous`` (1 NORMAL, 2 FULL)."""
    if db.get_bind().dialect.name == "postgresql":
        return str((await db.execute(text("SHOW synchronous_commit"))).scalar_one())
    return {1: "off", 2: "on"}[(await db.execute(text("PRAGMA synchronous"))).scalar_one()]


async def test_a_count_does_not_wait_for_the_disk_but_the_next_transaction_does(
        database: Database) -> None:
    """The count is not worth an fsync; whatever the same pooled connection writes next
    (a legal act) is durable again."""
    engine = create_engine(database.url, pool_size=1, max_overflow=0)  # one connection, reused
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as db:
            await rate_limits.hit(db, LIMIT, "client-a", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
            assert await _durability(db) == "off"
        async with transaction(sessions) as db:
            assert await _durability(db) == "on"
    finally:
        await engine.dispose()


async def test_a_count_alone_leaves_the_next_transaction_durable(database: Database) -> None:
    engine = create_engine(database.url, pool_size=1, max_overflow=0)  # one connection, reused
    sessions = session_factory(engine)
    try:
        await rate_limits.hit_alone(engine, LIMIT, "client-a", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        async with transaction(sessions) as db:
            assert await _durability(db) == "on"
        await rate_limits.hit_alone(engine, LIMIT, "client-a", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        async with transaction(sessions) as db:
            assert await _durability(db) == "on"
            assert (await db.execute(text("SELECT count FROM rate_limit_windows"))).scalar_one() == 2
    finally:
        await engine.dispose()
