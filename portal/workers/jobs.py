"""The worker side of ``services.jobs``: claim what is due, run each job, record how it went.

Each worker module declares its jobs as one `JobKinds`: the handler of each kind and the
exceptions that mean "not now" (a TSA or a payment platform down, a receipt still waiting for
its timestamp). The loop around them is written here, once:

* ``run_due`` claims up to ``limit`` due jobs in one short transaction (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, so workers side by side never take the same job) and runs each after
  that commit: a handler may wait on an outside system and opens its own transactions. A
  handler that returns marks its job done. One that raises a ``retry_on`` exception leaves the
  job due again after a back-off (``services.jobs.POLICY``), its reason recorded. Any other
  exception ends the round: a bug should be loud, and the job comes back when its lease ends.
* ``drain`` runs rounds until nothing is due (``portal worker --once``, tests).
  Several loops may drain or run one ``JobKinds`` side by side (the payment jobs, one loop
  per receipt rendering process): each claims its own jobs.
* ``run`` runs rounds until ``stop`` is set, waiting ``poll_seconds`` while idle. A failing
  round (the database restarting, say) is logged and the loop goes on: its jobs stay due.

Most jobs are enqueued by the transaction that needs them. A job that the calendar brings
about instead (the daily reconciliation) has a ``schedule``: it runs at the start of every
round, in the claiming transaction, and enqueues under a unique dedupe key whatever has
become due, so however many workers run it the job exists once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.database import transaction, utcnow
from portal.services import jobs

__all__ = ["DueJob", "JobKinds", "NotYet"]


class HasSessions(Protocol):
    """What the loop needs of a worker's deps: its own transactions for claims and results."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


Deps = TypeVar("Deps", bound=HasSessions)


@dataclass(frozen=True)
class DueJob:
    """A claimed job as its handler sees it: plain values, read in the claiming transaction."""

    id: int
    kind: str
    subject_id: int
    attempt: int
    """1 on the first run (the claim counts it)."""
    payload: Mapping[str, Any]


class NotYet(Exception):
    """A job cannot run yet (a receipt waiting for its timestamp, a reversal waiting for the
    receipt it reverses): list it in ``retry_on`` and the loop tries again after a back-off."""


def exception_name(exc: Exception) -> str:
    """The default reason recorded for a postponed job: the exception's class, never its text."""
    return type(exc).__name__


@dataclass(frozen=True)
class JobKinds(Generic[Deps]):
    """The jobs one worker module runs: ``handlers`` by kind, and which exceptions postpone.

    ``name`` is the worker module's name: logs go to ``portal.workers.<name>``. ``reason``
    turns a postponing exception into the ``last_error`` recorded (at most 200 characters) and
    the ``reason`` logged (at most 80): only a worker whose messages carry no personal data
    should record them (``submissions``: an HTTP status). ``schedule(db, deps, now)``, when
    given, enqueues at the start of each round whatever the calendar has made due.
    """

    name: str
    handlers: Mapping[str, Callable[[Deps, DueJob], Awaitable[object]]]
    retry_on: tuple[type[Exception], ...]
    reason: Callable[[Exception], str] = exception_name
    schedule: Callable[[AsyncSession, Deps, datetime], Awaitable[object]] | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.handlers)

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"portal.workers.{self.name}")

    async def run_due(self, deps: Deps, *, limit: int = 10, now: datetime | None = None) -> int:
        """Claim and run the jobs due at ``now`` (default: now); returns how many were claimed."""
        now = now or utcnow()
        async with transaction(deps.sessions) as db:
            if self.schedule is not None:
                await self.schedule(db, deps, now)
            claimed = [DueJob(job.id, job.kind, job.subject_id, job.attempts, dict(job.payload))
                       for job in await jobs.claim(db, self.kinds, limit=limit, now=now)]
        for job in claimed:
            try:
                await self.handlers[job.kind](deps, job)
            except self.retry_on as exc:
                reason = self.reason(exc)
                self.log.warning("job postponed", extra={"job": job.kind, "reason": reason[:80]})
                async with transaction(deps.sessions) as db:
                    await jobs.retry_later(db, job.id, reason)
                continue
            async with transaction(deps.sessions) as db:
                await jobs.complete(db, job.id)
        return len(claimed)

    async def drain(self, deps: Deps, *, limit: int = 10) -> int:
        """Run rounds (of up to ``limit`` jobs) until none claims anything; returns how many jobs
        were claimed in all."""
        total = 0
        while claimed := await self.run_due(deps, limit=limit):
            total += claimed
        return total

    async def run(self, deps: Deps, stop: asyncio.Event, poll_seconds: float = 1.0, *,
                  limit: int = 10) -> None:
        """Run rounds of up to ``limit`` jobs until ``stop`` is set; after a round that claimed
        nothing, wait ``poll_seconds`` (or less, if stopped). Loops side by side that should
        share a backlog evenly claim one job a round (``limit=1``)."""
        while not stop.is_set():
            try:
                claimed = await self.run_due(deps, limit=limit)
            except Exception:  # the database restarting, say: keep serving, try again
                self.log.exception("job round failed", extra={"job": self.name})
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
