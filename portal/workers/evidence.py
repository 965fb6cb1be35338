"""The periodic evidence checkpoint (``portal.services.checkpoints``), run by the workers.

Every ``EVIDENCE_CHECKPOINT_SECONDS`` (``Settings.evidence_checkpoint_seconds``, 10 minutes
by default) the job loop enqueues the checkpoint of that slot of time under a unique dedupe
key, so however many workers run it is taken once; a TSA that is down postpones it (back-off)
and the next slot's job covers the same heads anyway. A slot in which no chain moved stores
nothing and asks the TSA for nothing.

That leaves one job row per slot (144 a day at 10 minutes), so the same scheduling step
deletes the checkpoint jobs created more than ``KEEP_JOBS`` (a day; at least two slots) ago,
done or not: the checkpoints themselves are kept in their own tables, and a job still
postponed after a day is superseded by the newer ones, each of which covers every head.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.notary import Notary
from portal.services import checkpoints, jobs
from portal.settings import Settings
from portal.workers.jobs import DueJob, JobKinds
from signing import SigningError, TimestampToken, async_timestamp_hash

log = logging.getLogger("portal.workers.evidence")
JOB = "evidence_checkpoint"
CHECKPOINT_SECONDS = 600
"""The default interval (``Settings.evidence_checkpoint_seconds``)."""
KEEP_JOBS = timedelta(days=1)


@dataclass(frozen=True)
class EvidenceDeps:
    sessions: async_sessionmaker[AsyncSession]
    notary: Notary
    export_dir: Path
    interval: int = CHECKPOINT_SECONDS
    """Seconds between checkpoints."""


def deps_for(settings: Settings, sessions: async_sessionmaker[AsyncSession], notary: Notary) -> EvidenceDeps:
    return EvidenceDeps(sessions, notary, settings.data_dir / checkpoints.EXPORT_DIR,
                        interval=settings.evidence_checkpoint_seconds)


async def schedule(db: AsyncSession, deps: EvidenceDeps, now: datetime) -> None:
    """Enqueue the checkpoint of the slot ``now`` is in, unless it exists; forget old ones."""
    slot = int(now.timestamp()) // deps.interval
    await jobs.enqueue(db, JOB, slot, dedupe_key=f"{JOB}:{deps.interval}:{slot}", now=now)
    await jobs.prune(db, JOB, created_before=now - max(KEEP_JOBS, timedelta(seconds=2 * deps.interval)))


async def take_checkpoint(deps: EvidenceDeps, _job: DueJob | None = None) -> None:
    services = await deps.notary.services()

    async def stamp(digest: bytes) -> TimestampToken:
        return await async_timestamp_hash(services.timestamps, digest)

    try:
        checkpoint = await checkpoints.take(deps.sessions, stamp, deps.export_dir)
    except IntegrityError:  # another worker stored this checkpoint first
        return
    if checkpoint is not None:
        log.info("evidence checkpoint taken", extra={"job": JOB, "object": checkpoint.number,
                                                     "count": checkpoint.heads})


JOBS = JobKinds[EvidenceDeps]("evidence", {JOB: take_checkpoint}, retry_on=(SigningError, OSError),
                              schedule=schedule)
"""Run by ``portal worker`` and ``portal run`` (``workers.runner``)."""
