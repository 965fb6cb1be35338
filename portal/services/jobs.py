"""Follow-up jobs: enqueue inside the causing transaction, claim with SKIP LOCKED, finish or retry.

Workers call ``claim`` in a short transaction of its own, then do the work (which may call an
outside system such as a TSA) and record the result with ``complete`` or ``retry_later`` in
another. A claimed job is leased by pushing ``next_attempt_at`` forward, so a worker that dies
mid-job leaves a job another worker picks up after the lease: at-least-once, and every job
handler is written to be safe to run twice.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import RetryPolicy
from portal.database import insert_ignoring, utcnow
from portal.models.jobs import Job

_JOBS = Job.__table__
LEASE = timedelta(minutes=2)
POLICY = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=30), max_attempts=1000)


async def enqueue(db: AsyncSession, kind: str, subject_id: int, *, payload: dict[str, Any] | None = None,
                  dedupe_key: str | None = None, not_before: datetime | None = None,
                  now: datetime | None = None) -> None:
    """Add a job unless one with the same dedupe key exists (then nothing happens); ``now``:
    the instant of a scheduling round, its created time (default: now)."""
    now = now or utcnow()
    await _insert(db, [_row(kind, subject_id, payload=payload, dedupe_key=dedupe_key,
                            due=not_before or now, now=now)])


async def enqueue_kinds(db: AsyncSession, kinds: Sequence[str], subject_id: int) -> None:
    """One job of each of ``kinds`` for ``subject_id``, due now, as ``enqueue`` adds them but
    in one statement: the follow-ups of one act (a delivery's timestamp and receipt)."""
    now = utcnow()
    await _insert(db, [_row(kind, subject_id, payload=None, dedupe_key=None, due=now, now=now)
                       for kind in kinds])


def _row(kind: str, subject_id: int, *, payload: dict[str, Any] | None, dedupe_key: str | None,
         due: datetime, now: datetime) -> dict[str, Any]:
    return {"kind": kind, "subject_id": subject_id, "dedupe_key": dedupe_key or f"{kind}:{subject_id}",
            "done": False, "attempts": 0, "next_attempt_at": due, "created_at": now,
            "payload": payload or {}}


async def _insert(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    # the rows as parameters, not ``.values(rows)``: a multi-row VALUES clause has no cache
    # key, so SQLAlchemy would compile the statement afresh on every call; into the table,
    # not the mapped class: the ORM's bulk insert adds a third to the statement's CPU
    if rows:
        await db.execute(insert_ignoring(db, _JOBS, ["dedupe_key"]), rows)


async def claim(db: AsyncSession, kinds: tuple[str, ...], *, limit: int = 10,
                now: datetime | None = None) -> list[Job]:
    """Take up to ``limit`` due jobs of these kinds and lease them to the caller."""
    now = now or utcnow()
    query = (select(Job).where(Job.done.is_(False), Job.kind.in_(kinds), Job.next_attempt_at <= now)
             .order_by(Job.next_attempt_at, Job.id).limit(limit))
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    jobs = list((await db.execute(query)).scalars())
    for job in jobs:
        job.attempts += 1
        job.next_attempt_at = now + LEASE
    await db.flush()
    return jobs


async def complete(db: AsyncSession, job_id: int) -> None:
    job = await db.get(Job, job_id)
    if job is not None and not job.done:
        job.done = True
        job.finished_at = utcnow()
        job.last_error = None


async def retry_later(db: AsyncSession, job_id: int, error: str, *, rng: random.Random | None = None) -> None:
    job = await db.get(Job, job_id)
    if job is None or job.done:
        return
    now = utcnow()
    job.last_error = error[:200]
    job.next_attempt_at = POLICY.next_attempt_at(job.attempts, now, rng or random.Random())  # noqa: S311 (jitter, not secrecy)


async def prune(db: AsyncSession, kind: str, *, created_before: datetime) -> int:
    """Delete the jobs of ``kind`` created before ``created_before``, done or not: only for a
    kind whose newer jobs supersede the older (a periodic job); returns how many went."""
    result = await db.execute(delete(Job).where(Job.kind == kind, Job.created_at < created_before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
