"""Jobs: work that must happen after a commit, such as timestamping an arrival or issuing a
service receipt. A job row is written in the same transaction as the act that needs it, so a
committed act always gets its follow-up and a rolled-back one never does; workers take jobs
with ``FOR UPDATE SKIP LOCKED`` and every job is safe to run twice (STYLE.md, convention 9).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.models.evidence import BigId


class Job(Base):
    """One unit of follow-up work; ``dedupe_key`` makes enqueueing idempotent."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    done: Mapped[bool] = mapped_column(Boolean, index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
