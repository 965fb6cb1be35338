"""Per-client limits on public lookups hold under concurrency (SECURITY.md v5.0.0-2.4.1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from portal.database import transaction
from portal.services import rate_limits
from tests.conftest import Database

LIMIT = rate_limits.Limit("test_lookup", requests=10, window_seconds=60)


async def _hit(database: Database, client: str, now: datetime) -> rate_limits.Decision:
    async with transaction(database.sessions) as db:
        return await rate_limits.hit(db, LIMIT, client, now)


async def test_limit_allows_exactly_n_even_when_concurrent(database: Database) -> None:
    now = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    decisions = await asyncio.gather(*(_hit(database, "client-a", now) for _ in range(25)))
    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert all(d.retry_after == 31 for d in refused)  # until the window ends, whole seconds


async def test_clients_and_windows_are_independent(database: Database) -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    for _ in range(10):
        await _hit(database, "client-a", now)
    assert not (await _hit(database, "client-a", now)).allowed
    assert (await _hit(database, "client-b", now)).allowed
    assert (await _hit(database, "client-a", now + timedelta(seconds=60))).allowed


def test_client_key_hides_the_address() -> None:
    key = rate_limits.client_key("s" * 40, "203.0.113.7")
    assert "203" not in key and len(key) == 32
    assert key != rate_limits.client_key("t" * 40, "203.0.113.7")
