"""The portal's PostgreSQL engines find a server again: a pooled connection the server dropped
is replaced before use, or fails only the one transaction that meets it (SECURITY.md,
reliability: PostgreSQL restarted under load)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.database import create_engine


async def _backend_of(engine_url: str, ping_idle_after: float) -> tuple[AsyncEngine, int]:
    engine = create_engine(engine_url, ping_idle_after=ping_idle_after, pool_size=1,
                           max_overflow=0)
    async with engine.connect() as connection:
        pid = int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    return engine, pid


async def _terminate(engine_url: str, pid: int) -> None:
    """Drop one server connection, as a restart drops them all, and wait until it is gone."""
    admin = await asyncpg.connect(engine_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # with a timeout, the call returns once the backend has exited (PostgreSQL 14+)
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 10000)", pid)
    finally:
        await admin.close()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_the_web_apps_engine_replaces_a_dropped_connection_before_any_request_meets_it(
    pg_database_url: str | None,
) -> None:
    """``create_engine``'s default (``ping_idle_after=0``), the app's engine: every checkout is
    checked, in one round trip, and a worker's connection idle past its threshold likewise."""
    if pg_database_url is None:
        pytest.skip("PostgreSQL not reachable")
    engine, pid = await _backend_of(pg_database_url, ping_idle_after=0)
    try:
        assert await _backend_pid(engine) == pid  # a live connection passes its check and is kept
        await _terminate(pg_database_url, pid)
        assert await _backend_pid(engine) != pid  # pinged at checkout, found dead, replaced
    finally:
        await engine.dispose()


async def test_a_dropped_connection_used_a_moment_ago_fails_one_transaction_only(
    pg_database_url: str | None,
) -> None:
    # What a worker's engine accepts for its back-to-back transactions: no check, so the
    # transaction that meets the restart fails (the loop tries again), and the next one works.
    if pg_database_url is None:
        pytest.skip("PostgreSQL not reachable")
    engine, pid = await _backend_of(pg_database_url, ping_idle_after=3600)
    try:
        await _terminate(pg_database_url, pid)
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
