"""The periodic evidence checkpoint (``portal.services.checkpoints``), run by the workers.

Every ``CHECKPOINT_SECONDS`` (10 minutes) the job loop enqueues the checkpoint of that slot
of time under a unique dedupe key, so however many workers run it is taken once; a TSA that
is down postpones it (back-off) and the next slot's job covers the same heads anyway. A slot
in which no chain moved stores nothing and asks the TSA for nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.notary import Notary
from portal.services import checkpoints, jobs
from portal.workers.jobs import DueJob, JobKinds
from signing import SigningError, TimestampToken, async_timestamp_hash

log = logging.getLogger("portal.workers.evidence")
JOB = "evidence_checkpoint"
CHECKPOINT_SECONDS = 600


@dataclass(frozen=True)
class EvidenceDeps:
    sessions: async_sessionmaker[AsyncSession]
    notary: Notary
    export_dir: Path
    interval: int = CHECKPOINT_SECONDS


async def schedule(db: AsyncSession, deps: EvidenceDeps, now: datetime) -> None:
    """Enqueue the checkpoint of the slot ``now`` is in, unless it exists."""
    slot = int(now.timestamp()) // deps.interval
    await jobs.enqueue(db, JOB, slot, dedupe_key=f"{JOB}:{deps.interval}:{slot}")


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
