"""The daily reconciliation: yesterday's statement of every platform, once a day.

Each test pins the round's instant on a day already past, so the run's own timestamp (the
database's clock, as the CLI records it) falls after the hour, as it would in production.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from payments import PaymentPlatform, PlatformUnavailable, Statement, StatementLine
from portal.database import utcnow
from portal.legal_calendar import CHINA_TZ, china_date
from portal.models import Job, Reconciliation
from portal.settings import Settings
from portal.workers import reconciliation
from portal.workers.reconciliation import JOBS, ReconciliationDeps
from tests.conftest import Database

WORKER_DAY = china_date(utcnow()) - timedelta(days=1)  # the worker's "today"
DAY = WORKER_DAY - timedelta(days=1)  # its yesterday, the day to reconcile


def at(hour: int, minute: int = 0) -> datetime:
    """An instant of the worker's day, China time."""
    return datetime.combine(WORKER_DAY, time(hour, minute), CHINA_TZ).astimezone(UTC)


class FakePlatform:
    """A platform's statement side: what it collected, and which days it was asked for."""

    def __init__(self, name: str = "sandbox", *lines: StatementLine, down: bool = False) -> None:
        self.name = name
        self.lines = lines
        self.down = down
        self.fetched: list[date] = []

    async def fetch_statement(self, day: date) -> Statement:
        self.fetched.append(day)
        if self.down:
            raise PlatformUnavailable("statement service unavailable")
        return Statement(self.name, day, self.lines)


def deps(database: Database, *platforms: FakePlatform) -> ReconciliationDeps:
    @asynccontextmanager
    async def opened() -> AsyncIterator[Mapping[str, PaymentPlatform]]:
        yield {p.name: cast(PaymentPlatform, p) for p in platforms}

    return ReconciliationDeps(database.sessions, opened, hour=2)


async def runs(database: Database) -> list[tuple[str, date, bool]]:
    async with database.sessions() as db:
        rows = (await db.execute(select(Reconciliation).order_by(Reconciliation.id))).scalars()
        return [(row.platform, row.day, row.clean) for row in rows]


async def test_yesterday_is_reconciled_once_the_hour_has_come(database: Database) -> None:
    platform = FakePlatform()
    assert await JOBS.run_due(deps(database, platform), now=at(2, 30)) == 1
    assert platform.fetched == [DAY]
    assert await runs(database) == [("sandbox", DAY, True)]
    async with database.sessions() as db:
        job = (await db.execute(select(Job))).scalar_one()
    assert (job.kind, job.dedupe_key, job.done) == ("reconciliation", f"reconciliation:{DAY}", True)
    # later the same day: done, nothing more
    assert await JOBS.run_due(deps(database, platform), now=at(23, 59)) == 0
    assert platform.fetched == [DAY]


async def test_nothing_happens_before_the_hour(database: Database) -> None:
    platform = FakePlatform()
    assert await JOBS.run_due(deps(database, platform), now=at(1, 59)) == 0
    assert platform.fetched == [] and await runs(database) == []
    async with database.sessions() as db:
        assert (await db.execute(select(Job))).first() is None  # not even queued early


async def test_the_hour_is_china_time_and_configurable() -> None:
    # 02:00 China time is 18:00 UTC the evening before
    assert reconciliation.due_day(datetime(2026, 11, 25, 17, 59, tzinfo=UTC), 2) is None
    assert reconciliation.due_day(datetime(2026, 11, 25, 18, 0, tzinfo=UTC), 2) == date(2026, 11, 25)
    assert reconciliation.due_day(datetime(2026, 11, 26, 1, 0, tzinfo=UTC), 10) is None  # 09:00 CST


async def test_two_workers_reconcile_the_day_once(database: Database) -> None:
    first, second = FakePlatform(), FakePlatform()
    claimed = await asyncio.gather(JOBS.run_due(deps(database, first), now=at(3)),
                                   JOBS.run_due(deps(database, second), now=at(3)))
    assert sorted(claimed) == [0, 1]
    assert first.fetched + second.fetched == [DAY]
    assert await runs(database) == [("sandbox", DAY, True)]


async def test_a_discrepancy_is_recorded_and_logged_without_payment_data(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    unknown = StatementLine(platform_serial="SB-UNKNOWN", platform_order_id="PO-1", order_id="ord-1",
                            payment_code="3501269900001234", amount_fen=20_000,
                            paid_at=at(0) - timedelta(hours=12))
    with caplog.at_level(logging.INFO, logger="portal.workers.reconciliation"):
        await JOBS.run_due(deps(database, FakePlatform("sandbox", unknown)), now=at(3))
    async with database.sessions() as db:
        row = (await db.execute(select(Reconciliation))).scalar_one()
    assert not row.clean and row.day == DAY and row.matched == 0
    assert [line["payment_code"] for line in row.report["missing_in_portal"]] == ["3501269900001234"]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.__dict__["count"] == 1 and warning.__dict__["object"] == f"sandbox:{DAY}"
    assert "3501269900001234" not in caplog.text and "SB-UNKNOWN" not in caplog.text


async def test_a_platform_that_is_down_is_retried_and_the_others_are_not_fetched_again(
        database: Database) -> None:
    steady, flaky = FakePlatform("sandbox"), FakePlatform("nontax", down=True)
    await JOBS.run_due(deps(database, steady, flaky), now=at(3))
    async with database.sessions() as db, db.begin():
        job = (await db.execute(select(Job))).scalar_one()
        assert not job.done and job.last_error == "PlatformUnavailable"
        job.next_attempt_at = at(3)  # the back-off is over
    assert await runs(database) == [("sandbox", DAY, True)]
    flaky.down = False
    assert await JOBS.run_due(deps(database, steady, flaky), now=at(4)) == 1
    assert steady.fetched == [DAY] and flaky.fetched == [DAY, DAY]
    assert await runs(database) == [("sandbox", DAY, True), ("nontax", DAY, True)]


async def test_the_configured_platforms_are_the_ones_whose_callbacks_are_accepted(
        app: Starlette, settings: Settings, database: Database) -> None:
    async with reconciliation.deps_for(settings, database.sessions).platforms() as platforms:
        assert list(platforms) == list(app.state.payments.adapters) == ["sandbox"]
