"""Reports of the public PDF verification (/verify), kept for a day so they can be downloaded.

The uploaded file itself is never stored (SECURITY.md, "Uploads and PDFs"): only the report
as JSON, the file's SHA-256 and size. A report is reached through a random 128-bit id that the
uploader gets in the download links; the table holds only the id's SHA-256, like sessions and
API tokens, so a copy of the database gives nobody those links. Rows past ``expires_at`` are
never shown and are pruned; they are not records of legal significance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class VerificationReportRecord(Base):
    __tablename__ = "verification_reports"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """The report as a sealed PDF, made at its first download and served as is after."""
