"""Keeping a verification report for a day, behind an unguessable id.

"Uploaded files are not kept unless the user asks for a report": the upload is verified in
memory and dropped; what the /verify page keeps is the report (the JSON the API also answers),
the file's SHA-256 and its size, so that the report page can be reloaded and the report
downloaded as JSON or as a sealed PDF. The PDF is sealed at its first download and kept with
the report (``keep_sealed``): sealing takes an HSM signature and a TSA request, once. The id
in those links is 128 bits from ``secrets``
(ASVS v5.0.0-11.5.1): it carries no personal data and cannot be enumerated; the table keeps
only its SHA-256. Unknown, malformed and expired ids are all the same ``NotFound``.

Expired rows are pruned whenever a new report is stored (bounded work per request, so no
separate job is needed for a table that holds a day of uploads).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.errors import NotFound
from portal.models import VerificationReportRecord
from portal.retention import VERIFICATION_REPORTS

__all__ = ["REPORT_LIFETIME", "StoredReport", "keep_sealed", "load", "prune", "sealed_copy", "store"]

REPORT_LIFETIME = VERIFICATION_REPORTS  # what the personal-information notice states
_ID_BYTES = 16
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")  # token_urlsafe(16): 22 characters, no padding
_PRUNE_BATCH = 500


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    created_at: datetime
    expires_at: datetime
    document_sha256: str
    document_size: int
    report: dict[str, Any]
    """``VerificationReport.to_json_dict()``, exactly as the API answers it."""


def _digest(report_id: str) -> str:
    return hashlib.sha256(report_id.encode()).hexdigest()


async def store(db: AsyncSession, report: dict[str, Any], *, now: datetime | None = None) -> StoredReport:
    """Keep ``report`` for ``REPORT_LIFETIME`` under a new random id."""
    now = now or utcnow()
    await prune(db, now=now)
    report_id = secrets.token_urlsafe(_ID_BYTES)
    record = VerificationReportRecord(
        id_hash=_digest(report_id),
        created_at=now,
        expires_at=now + REPORT_LIFETIME,
        document_sha256=str(report["document_sha256"]),
        document_size=int(report["size"]),
        report=report,
    )
    db.add(record)
    await db.flush()
    return _stored(report_id, record)


async def load(db: AsyncSession, report_id: str, *, now: datetime | None = None) -> StoredReport:
    """The report behind ``report_id``; ``NotFound`` if unknown, malformed or expired."""
    if not _ID_SHAPE.fullmatch(report_id):
        raise NotFound()
    record = (await db.execute(
        select(VerificationReportRecord).where(VerificationReportRecord.id_hash == _digest(report_id))
    )).scalar_one_or_none()
    if record is None or record.expires_at <= (now or utcnow()):
        raise NotFound()
    return _stored(report_id, record)


async def sealed_copy(db: AsyncSession, report_id: str) -> bytes | None:
    """The report's sealed PDF if one was made (``load`` first: this does not check expiry)."""
    return (await db.execute(select(VerificationReportRecord.sealed_pdf).where(
        VerificationReportRecord.id_hash == _digest(report_id)))).scalar_one_or_none()


async def keep_sealed(db: AsyncSession, report_id: str, pdf: bytes) -> bytes:
    """Keep ``pdf`` as the report's sealed copy unless one was kept meanwhile (two downloads
    at once); return the copy kept, which every later download serves."""
    await db.execute(update(VerificationReportRecord).where(
        VerificationReportRecord.id_hash == _digest(report_id),
        VerificationReportRecord.sealed_pdf.is_(None)).values(sealed_pdf=pdf))
    return await sealed_copy(db, report_id) or pdf


async def prune(db: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete up to a batch of expired reports; returns how many went."""
    expired = (select(VerificationReportRecord.id_hash)
               .where(VerificationReportRecord.expires_at <= (now or utcnow()))
               .limit(_PRUNE_BATCH))
    result = await db.execute(delete(VerificationReportRecord)
                              .where(VerificationReportRecord.id_hash.in_(expired)))
    return int(getattr(result, "rowcount", 0) or 0)


def _stored(report_id: str, record: VerificationReportRecord) -> StoredReport:
    return StoredReport(
        report_id=report_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        document_sha256=record.document_sha256,
        document_size=record.document_size,
        report=dict(record.report),
    )
