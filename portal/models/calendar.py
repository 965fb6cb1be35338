"""The operator's holiday table (放假调休安排): the rows ``portal calendar load`` writes.

China publishes each year's arrangement late in the year before, after any library release,
so the dates that decide legal deadlines must be updatable without a deployment. One row per
listed date of a year's arrangement, in the shape of ``portal.holiday_table.CalendarDay``:
``year`` is the year of the notice (which may list a date in an adjacent year), ``kind`` is
``holiday`` (a rest day) or ``workday`` (a weekend made a working day). A year is covered as a
whole or not at all: loading a file replaces every row of the years it names.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class HolidayDay(Base):
    __tablename__ = "holiday_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))


class HolidayTableLoad(Base):
    """One load of the table, appended in the load's transaction and never changed: when the
    arrangement changed, for which years, and the digest of the whole table it left
    (``portal.holiday_table.table_digest``), by which every process knows whether the table
    it built before is still the one in force (``portal.services.calendar``)."""

    __tablename__ = "holiday_table_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    years: Mapped[str] = mapped_column(String(200))
    """The years the load replaced, comma-separated."""
    digest: Mapped[str] = mapped_column(String(64))
