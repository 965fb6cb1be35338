"""The operator's holiday table (放假调休安排): the rows ``portal calendar load`` writes.

China publishes each year's arrangement late in the year before, after any library release,
so the dates that decide legal deadlines must be updatable without a deployment. One row per
listed date of a year's arrangement, in the shape of ``portal.holiday_table.CalendarDay``:
``year`` is the year of the notice (which may list a date in an adjacent year), ``kind`` is
``holiday`` (a rest day) or ``workday`` (a weekend made a working day). A year is covered as a
whole or not at all: loading a file replaces every row of the years it names.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base


class HolidayDay(Base):
    __tablename__ = "holiday_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
