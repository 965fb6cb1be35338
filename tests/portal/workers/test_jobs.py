"""The job loop every follow-up worker shares (``workers.jobs``): done, postponed, or loud."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.database import transaction, utcnow
from portal.models import Job
from portal.services import jobs
from portal.workers.jobs import DueJob, JobKinds
from tests.conftest import Database


class Busy(Exception):
    """The outside system is busy: try later."""


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    outcomes: list[Exception | None] = field(default_factory=list)
    seen: list[DueJob] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def handle(deps: Deps, job: DueJob) -> None:
    deps.seen.append(job)
    outcome = deps.outcomes.pop(0) if deps.outcomes else None
    if outcome is not None:
        raise outcome
    deps.stop.set()


KINDS = JobKinds[Deps]("test", {"test_job": handle}, retry_on=(Busy,))


async def queued(database: Database, deps: Deps) -> Deps:
    async with transaction(database.sessions) as db:
        await jobs.enqueue(db, "test_job", 7, payload={"ref": "x"})
    return deps


async def the_job(database: Database) -> Job:
    async with database.sessions() as db:
        return (await db.execute(select(Job))).scalar_one()


async def test_a_job_that_returns_is_done(database: Database) -> None:
    deps = await queued(database, Deps(database.sessions))
    assert await KINDS.drain(deps) == 1
    [job] = deps.seen
    assert (job.kind, job.subject_id, job.attempt, dict(job.payload)) == ("test_job", 7, 1, {"ref": "x"})
    assert (await the_job(database)).done


async def test_a_retryable_failure_postpones_with_back_off(database: Database) -> None:
    deps = await queued(database, Deps(database.sessions, outcomes=[Busy("with a message")]))
    before = utcnow()
    assert await KINDS.run_due(deps) == 1
    row = await the_job(database)
    assert not row.done and row.last_error == "Busy"  # the class, not the message
    assert before <= row.next_attempt_at <= utcnow() + jobs.POLICY.ceiling(1)
    assert await KINDS.run_due(deps, now=row.next_attempt_at) == 1
    assert [job.attempt for job in deps.seen] == [1, 2] and (await the_job(database)).done


async def test_any_other_failure_escapes_and_the_job_waits_for_its_lease(database: Database) -> None:
    deps = await queued(database, Deps(database.sessions, outcomes=[KeyError("bug")]))
    with pytest.raises(KeyError):
        await KINDS.run_due(deps)
    row = await the_job(database)
    assert not row.done and row.last_error is None and row.next_attempt_at > utcnow()  # leased


async def test_run_logs_a_failing_round_and_goes_on_until_stopped(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    failures = [OSError("the database is restarting")]

    async def schedule(db: AsyncSession, deps: Deps, now: datetime) -> None:
        if failures:
            raise failures.pop()

    kinds = JobKinds[Deps]("test", {"test_job": handle}, retry_on=(Busy,), schedule=schedule)
    deps = await queued(database, Deps(database.sessions))
    await asyncio.wait_for(kinds.run(deps, deps.stop, poll_seconds=0.01), 10)  # the job sets stop
    assert len(deps.seen) == 1 and (await the_job(database)).done
    assert [r.message for r in caplog.records if r.name == "portal.workers.test"] == ["job round failed"]
