"""The holiday calendar the portal counts deadlines with: the operator's table over the
``chinese-calendar`` package (LAW.md, "Counting days").

The State Council publishes a year's arrangement late in the year before; the operator loads
it with ``portal calendar load FILE`` (``replace_years``), which replaces the rows of every
year the file covers and appends a ``HolidayTableLoad`` naming the digest of the whole table
it left, in the caller's one transaction, so a reader sees a year's old arrangement or its new
one, never half of each.

``load_calendar`` is called wherever a deadline is counted (a page, a delivery, a payment).
Building the calendar from a loaded table costs about 2 ms of CPU for five years of rows, ten
times the query that asks for the latest load's digest; so each process keeps the calendars
it built, keyed by the digest of the rows they were built from, and every use asks the
database which digest is in force: a load on any node is seen by every process at its next
use, as before. The key is the content, not a database or a load, so processes that talk to
several databases (the tests) never mix two tables up. A database never loaded has no rows:
the package alone, without reading the table (``replace_years`` is the only writer of the
rows; the migration that added the loads recorded the rows already there). Years neither the
table nor the package knows fall back to weekdays, visibly (``portal.legal_calendar``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import advisory_lock, database_now
from portal.holiday_table import CalendarDay, DayKind, HolidayTable, table_digest
from portal.legal_calendar import HolidayCalendar
from portal.models.calendar import HolidayDay, HolidayTableLoad

_KEPT = 4
"""Calendars a process keeps: the one in force and the few before it (a load in progress
elsewhere, the tests' several databases)."""
_BUILT: dict[str, HolidayCalendar] = {}
_LATEST_DIGEST = select(HolidayTableLoad.digest).order_by(HolidayTableLoad.id.desc()).limit(1)
_ROWS = select(HolidayDay).order_by(HolidayDay.year, HolidayDay.day)
_LOAD_LOCK = 0x43414C  # "CAL"


@dataclass(frozen=True)
class LoadSummary:
    """What a load did, per year: days of rest and weekend working days written, and how
    many earlier rows of those years it replaced."""

    years: tuple[int, ...]
    holidays: dict[int, int]
    workdays: dict[int, int]
    replaced: int


async def _stored_days(db: AsyncSession) -> list[CalendarDay]:
    return [CalendarDay(row.year, row.day, DayKind(row.kind), row.name)
            for row in (await db.execute(_ROWS)).scalars()]


def _table(days: list[CalendarDay]) -> HolidayTable | None:
    """The loaded arrangements, or None before any load. Where two years' notices list the
    same date (a notice may reach into the adjacent year), the later notice decides."""
    if not days:
        return None
    by_day = {entry.day: entry for entry in days}  # in (year, date) order: the later year last
    return HolidayTable.from_days(by_day.values(), {entry.year for entry in days})


async def load_calendar(db: AsyncSession) -> HolidayCalendar:
    """The calendar in force (see the module docstring)."""
    in_force = (await db.execute(_LATEST_DIGEST)).scalar_one_or_none()
    if in_force is None:
        return HolidayCalendar.standard(None)
    calendar = _BUILT.get(in_force)
    if calendar is None:
        days = await _stored_days(db)
        calendar = HolidayCalendar.standard(_table(days))
        # under the digest of the rows read: a load committed between the two queries is
        # built under its own digest, never under the one before it
        _BUILT[table_digest(days)] = calendar
        while len(_BUILT) > _KEPT:
            del _BUILT[next(iter(_BUILT))]
    return calendar


async def replace_years(db: AsyncSession, table: HolidayTable) -> LoadSummary:
    """Replace every row of ``table.years`` with the table's days and record the load (see
    the module docstring). Loads wait for each other: two at once, of different years, would
    each record the digest of the table without the other's rows, and the later-numbered one
    would name a table that never was."""
    await advisory_lock(db, _LOAD_LOCK, "holiday table")
    years = tuple(sorted(table.years))
    replaced = (await db.execute(select(func.count()).select_from(HolidayDay)
                                 .where(HolidayDay.year.in_(years)))).scalar_one()
    await db.execute(delete(HolidayDay).where(HolidayDay.year.in_(years)))
    db.add_all(HolidayDay(year=entry.year, day=entry.day, kind=entry.kind.value, name=entry.name)
               for entry in table.days.values())
    await db.flush()
    db.add(HolidayTableLoad(loaded_at=await database_now(db), years=",".join(map(str, years)),
                            digest=table_digest(await _stored_days(db))))
    await db.flush()
    counts = Counter((entry.year, entry.kind) for entry in table.days.values())
    return LoadSummary(
        years=years,
        holidays={year: counts[(year, DayKind.HOLIDAY)] for year in years},
        workdays={year: counts[(year, DayKind.WORKDAY)] for year in years},
        replaced=int(replaced),
    )
