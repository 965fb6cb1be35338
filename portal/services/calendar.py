"""The holiday calendar the portal counts deadlines with: the operator's table over the
``chinese-calendar`` package (LAW.md, "Counting days").

The State Council publishes a year's arrangement late in the year before; the operator loads
it with ``portal calendar load FILE`` (``replace_years``), which replaces the rows of every
year the file covers in the caller's one transaction, so a reader sees a year's old
arrangement or its new one, never half of each. ``load_calendar`` reads the table back for
each use: a process never serves a stale calendar after a load, and the few hundred rows cost
less than one page render. Years neither the table nor the package knows fall back to
weekdays, visibly (``portal.legal_calendar``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.holiday_table import CalendarDay, DayKind, HolidayTable
from portal.legal_calendar import HolidayCalendar
from portal.models.calendar import HolidayDay


@dataclass(frozen=True)
class LoadSummary:
    """What a load did, per year: days of rest and weekend working days written, and how
    many earlier rows of those years it replaced."""

    years: tuple[int, ...]
    holidays: dict[int, int]
    workdays: dict[int, int]
    replaced: int


async def operator_table(db: AsyncSession) -> HolidayTable | None:
    """The loaded arrangements, or None before any load. Where two years' notices list the
    same date (a notice may reach into the adjacent year), the later notice decides."""
    rows = (await db.execute(select(HolidayDay).order_by(HolidayDay.year, HolidayDay.day))).scalars()
    by_day: dict[object, CalendarDay] = {}
    years: set[int] = set()
    for row in rows:
        years.add(row.year)
        by_day[row.day] = CalendarDay(row.year, row.day, DayKind(row.kind), row.name)
    if not years:
        return None
    return HolidayTable.from_days(by_day.values(), years)


async def load_calendar(db: AsyncSession) -> HolidayCalendar:
    return HolidayCalendar.standard(await operator_table(db))


async def replace_years(db: AsyncSession, table: HolidayTable) -> LoadSummary:
    """Replace every row of ``table.years`` with the table's days (see the module docstring)."""
    years = tuple(sorted(table.years))
    replaced = (await db.execute(select(func.count()).select_from(HolidayDay)
                                 .where(HolidayDay.year.in_(years)))).scalar_one()
    await db.execute(delete(HolidayDay).where(HolidayDay.year.in_(years)))
    db.add_all(HolidayDay(year=entry.year, day=entry.day, kind=entry.kind.value, name=entry.name)
               for entry in table.days.values())
    await db.flush()
    counts = Counter((entry.year, entry.kind) for entry in table.days.values())
    return LoadSummary(
        years=years,
        holidays={year: counts[(year, DayKind.HOLIDAY)] for year in years},
        workdays={year: counts[(year, DayKind.WORKDAY)] for year in years},
        replaced=int(replaced),
    )
