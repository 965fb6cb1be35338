"""Counters for per-client rate limits on public lookups (SECURITY.md, "Business logic").

Fixed windows keyed by a bucket and an HMAC of the client address (never the raw address),
shared by every app process through the database. Old windows are pruned; they are not
records of legal significance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
