"""Holiday tables: which dates the State Council made rest days or working days, per year.

China publishes each year's holiday arrangement (放假调休安排) late in the previous year, so
the portal cannot rely on a library release alone. This module owns the one shape that holiday
data takes, whatever its source, and the two sources:

- ``package_table()``: the ``chinese-calendar`` package's data (2004–2026 in version 1.11);
- ``parse_calendar_file(text)``: the operator's table, the file ``portal calendar load FILE``
  reads (the command and the database rows it fills are wired elsewhere; rows read back from
  the database go through ``HolidayTable.from_days`` and get the same checks).

A ``HolidayTable`` lists only the exceptions: a date not listed in a year the table covers is
a working day Monday to Friday and a rest day on Saturday and Sunday. ``portal.legal_calendar``
layers tables (operator over package) and counts days with them.

Operator file format (UTF-8 CSV, a header line, ``#`` comment lines and blank lines ignored)::

    year,date,kind,name
    2027,2027-01-01,holiday,元旦
    2027,2027-02-20,workday,春节调休上班

``year`` is the year of the arrangement (the notice), which may list a date in the adjacent
year (the 2012 notice made 31 December 2011 a working day); ``kind`` is ``holiday`` (a rest
day, 放假) or ``workday`` (a weekend made a working day, 调休上班); ``name`` says which holiday.
The years a file mentions are the years it covers: for those years it replaces the package
entirely, so a file must list the whole year's arrangement.

Errors: ``CalendarFileError`` (a ``BadRequest``, code ``calendar_file_invalid``) carries the
line number (when it came from a file) and the reason.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

import chinese_calendar

from portal.errors import BadRequest

HEADER = ("year", "date", "kind", "name")
# Sanity bounds for an operator-typed year; the portal's data starts in 2004.
MIN_YEAR = 2000
MAX_YEAR = 2100


class CalendarFileError(BadRequest):
    """The holiday data is malformed; ``line`` is the 1-based line of the file, if any."""

    code = "calendar_file_invalid"

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"第{line}行：{reason}")
        self.reason = reason
        self.line = line


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # 放假: a rest day, whatever weekday it falls on
    WORKDAY = "workday"  # 调休上班: a Saturday or Sunday made a working day


@dataclass(frozen=True)
class CalendarDay:
    """One listed date of an arrangement."""

    year: int
    day: date
    kind: DayKind
    name: str

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise CalendarFileError(f"年份 {self.year} 不在 {MIN_YEAR}–{MAX_YEAR} 之间")
        if abs(self.day.year - self.year) > 1:
            raise CalendarFileError(f"日期 {self.day} 不属于 {self.year} 年的安排（最多跨相邻一年）")
        if self.kind is DayKind.WORKDAY and self.day.weekday() < 5:
            raise CalendarFileError(f"{self.day} 是周一至周五，本来就是工作日，不能标为调休上班")
        if not self.name.strip():
            raise CalendarFileError(f"{self.day} 缺少名称（如“春节”）")


@dataclass(frozen=True)
class HolidayTable:
    """The arrangements of ``years``: the listed dates, keyed by date."""

    years: frozenset[int]
    days: Mapping[date, CalendarDay]

    @classmethod
    def from_days(cls, days: Iterable[CalendarDay], years: Iterable[int] = ()) -> HolidayTable:
        """Build a table covering ``years`` plus every year a listed day belongs to."""
        by_date: dict[date, CalendarDay] = {}
        for entry in days:
            if entry.day in by_date:
                raise CalendarFileError(f"日期 {entry.day} 出现了不止一次")
            by_date[entry.day] = entry
        covered = frozenset(years) | {entry.year for entry in by_date.values()}
        return cls(years=covered, days=MappingProxyType(by_date))


def table_digest(days: Iterable[CalendarDay]) -> str:
    """The SHA-256 of an operator's table as stored, one line per listed date in the order of
    (year, date): two tables with the same digest count every deadline alike, so a process
    may reuse what it built from one for the other (``portal.services.calendar``)."""
    lines = sorted(f"{entry.year}|{entry.day.isoformat()}|{entry.kind.value}|{entry.name}\n"
                   for entry in days)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def parse_calendar_file(text: str) -> HolidayTable:
    """Parse the operator's CSV (see the module docstring); raise ``CalendarFileError``."""
    lines = [
        (number, line)
        for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise CalendarFileError("文件为空")
    header_line, header = lines[0]
    if tuple(cell.strip() for cell in next(csv.reader([header]))) != HEADER:
        raise CalendarFileError(f"第一行应为表头 {','.join(HEADER)}", header_line)
    if len(lines) == 1:
        raise CalendarFileError("文件中没有任何日期")
    first_line: dict[date, int] = {}
    days = []
    for number, line in lines[1:]:
        entry = _parse_row(number, line)
        if entry.day in first_line:
            raise CalendarFileError(f"日期 {entry.day} 已在第{first_line[entry.day]}行出现", number)
        first_line[entry.day] = number
        days.append(entry)
    return HolidayTable.from_days(days)


def _parse_row(number: int, line: str) -> CalendarDay:
    cells = [cell.strip() for cell in next(csv.reader([line]))]
    if len(cells) != len(HEADER):
        reason = f"应有 {len(HEADER)} 列（{','.join(HEADER)}），实有 {len(cells)} 列"
        raise CalendarFileError(reason, number)
    year_text, date_text, kind_text, name = cells
    if not re.fullmatch(r"\d{4}", year_text, re.ASCII):
        raise CalendarFileError(f"年份应为四位数字，实为“{year_text}”", number)
    try:
        # The pattern first: fromisoformat would also take "20270101" and week dates.
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_text, re.ASCII):
            raise ValueError(date_text)
        day = date.fromisoformat(date_text)
    except ValueError:
        reason = f"日期应为 YYYY-MM-DD 格式的有效日期，实为“{date_text}”"
        raise CalendarFileError(reason, number) from None
    try:
        kind = DayKind(kind_text)
    except ValueError:
        raise CalendarFileError(f"类型应为 holiday 或 workday，实为“{kind_text}”", number) from None
    try:
        return CalendarDay(year=int(year_text), day=day, kind=kind, name=name)
    except CalendarFileError as error:
        raise CalendarFileError(error.reason, number) from None


@functools.cache
def package_table() -> HolidayTable:
    """The ``chinese-calendar`` package's data as a table covering its whole year range."""
    names = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    listed = [
        CalendarDay(day.year, day, DayKind.HOLIDAY, names.get(name, name))
        for day, name in chinese_calendar.holidays.items()
    ] + [
        CalendarDay(day.year, day, DayKind.WORKDAY, names.get(name, name))
        for day, name in chinese_calendar.workdays.items()
    ]
    first = min(entry.year for entry in listed)
    last = max(entry.year for entry in listed)
    return HolidayTable.from_days(listed, years=range(first, last + 1))
