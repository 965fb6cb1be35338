"""Verification reports are kept for a day behind an unguessable id, then gone
(SECURITY.md "Uploads and PDFs", v5.0.0-11.5.1), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.database import transaction
from portal.errors import NotFound
from portal.models import VerificationReportRecord
from portal.services import verification_reports
from tests.conftest import Database

REPORT = {"indication": "TOTAL_PASSED", "summary": "此文件的签章有效，签署后未被修改",
          "document_sha256": "ab" * 32, "size": 1234, "signatures": []}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_a_stored_report_comes_back_until_it_expires(database: Database) -> None:
    async with transaction(database.sessions) as db:
        stored = await verification_reports.store(db, REPORT, now=NOW)
    assert stored.document_sha256 == "ab" * 32 and stored.document_size == 1234
    async with database.sessions() as db:
        loaded = await verification_reports.load(db, stored.report_id, now=NOW + timedelta(hours=23))
        assert loaded.report == REPORT and loaded.expires_at == NOW + timedelta(hours=24)
        with pytest.raises(NotFound):
            await verification_reports.load(db, stored.report_id, now=NOW + timedelta(hours=24))


async def test_expired_reports_are_pruned_when_a_new_one_is_stored(database: Database) -> None:
    async with transaction(database.sessions) as db:
        await verification_reports.store(db, REPORT, now=NOW)
        await verification_reports.store(db, REPORT, now=NOW + timedelta(hours=1))
    async with transaction(database.sessions) as db:
        await verification_reports.store(db, REPORT, now=NOW + timedelta(hours=24, minutes=30))
    async with database.sessions() as db:
        count = (await db.execute(select(func.count()).select_from(VerificationReportRecord))).scalar_one()
    assert count == 2  # the first expired and went; the second still has half an hour


@pytest.mark.parametrize("report_id", ["", "short", "A" * 22, "A" * 21 + "/", "é" * 22, "x" * 1000])
async def test_unknown_or_malformed_ids_are_not_found(database: Database, report_id: str) -> None:
    async with database.sessions() as db:
        with pytest.raises(NotFound):
            await verification_reports.load(db, report_id)
