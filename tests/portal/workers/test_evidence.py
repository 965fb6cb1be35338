"""The periodic evidence checkpoint job (``workers.evidence``): its interval is a setting, and
the one job row each interval leaves does not pile up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.database import transaction
from portal.errors import ConfigurationError
from portal.models import Job
from portal.models.evidence import EvidenceCheckpoint
from portal.notary import Notary
from portal.services import evidence
from portal.settings import load_settings
from portal.workers import evidence as evidence_worker
from tests.conftest import Database, make_settings

START = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_interval_is_a_setting_of_ten_minutes_by_default(tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    assert load_settings({"DATA_DIR": data_dir}).evidence_checkpoint_seconds == 600
    assert load_settings({"DATA_DIR": data_dir, "EVIDENCE_CHECKPOINT_SECONDS": "3600"}
                         ).evidence_checkpoint_seconds == 3600
    for wrong in ("59", "86401", "0", "-600", "十分钟"):
        with pytest.raises(ConfigurationError, match="EVIDENCE_CHECKPOINT_SECONDS"):
            load_settings({"DATA_DIR": data_dir, "EVIDENCE_CHECKPOINT_SECONDS": wrong})


async def _rows(database: Database) -> tuple[int, int]:
    async with database.sessions() as db:
        jobs = (await db.execute(select(func.count()).select_from(Job)
                                 .where(Job.kind == evidence_worker.JOB))).scalar_one()
        taken = (await db.execute(select(func.count()).select_from(EvidenceCheckpoint))).scalar_one()
    return jobs, taken


async def test_one_checkpoint_per_interval_and_the_job_rows_are_pruned(
        database: Database, data_dir: Path) -> None:
    # six-hourly checkpoints over four days: one job a slot, a checkpoint where a chain moved,
    # and no job rows older than a day left behind (here: the current slot and three before)
    settings = make_settings(database.url, data_dir, EVIDENCE_CHECKPOINT_SECONDS="21600")
    async with Notary.from_settings(settings) as notary:
        deps = evidence_worker.deps_for(settings, database.sessions, notary)
        assert deps.interval == 21600
        for slot in range(16):
            now = START + timedelta(hours=6 * slot, minutes=1)
            if slot % 4 == 0:  # a chain moves once a day
                async with transaction(database.sessions) as db:
                    await evidence.append(db, chain="party:1", kind="read", actor="test", payload={"n": slot})
            assert await evidence_worker.JOBS.run_due(deps, now=now) == 1
            assert await evidence_worker.JOBS.run_due(deps, now=now + timedelta(minutes=30)) == 0
            assert await _rows(database) == (min(slot + 1, 4), slot // 4 + 1)
    async with database.sessions() as db:
        slots = (await db.execute(select(Job.subject_id).where(Job.kind == evidence_worker.JOB)
                                  .order_by(Job.subject_id))).scalars().all()
    first = int((START + timedelta(hours=6 * 12)).timestamp()) // 21600
    assert slots == list(range(first, first + 4))
