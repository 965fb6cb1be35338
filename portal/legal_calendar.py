"""The legal calendar: the one place where the portal computes legal deadlines.

Every page, API answer, reminder and job that shows or enforces a deadline takes a
``Deadline`` from here, so a party sees the same date everywhere, with how it was counted.
The rules (LAW.md, "Counting days"):

- Periods of 2, 3, 5 and 7 days in the Administrative Penalty Law are working days, statutory
  holidays excluded; a weekend the State Council made a working day (调休上班) counts. Longer
  periods (15, 60 days) are calendar days (APL art. 85).
- The day on which a period starts is not counted (Civil Code art. 201; Civil Procedure Law
  art. 85).
- Months: the last day is the day of the target month with the start day's number; when the
  target month is shorter, its last day (Civil Code art. 202): served 31 August, 6 months ->
  28 (or 29) February.
- A calendar-day or month period whose last day is a rest day (a statutory holiday, or a
  weekend not made a working day) ends on the first working day after it (Civil Code art. 203;
  Civil Procedure Law art. 85). A working-day period always ends on a working day.
- A period ends at 24:00 China time (Asia/Shanghai) of its last day. ``ends_at_utc`` is that
  instant in UTC and is exclusive: an act at any instant strictly before it is in time.

Holiday data comes in as a ``HolidayCalendar`` value: the operator's table over the
``chinese-calendar`` package (see ``portal.holiday_table``). For a year that neither knows,
the fallback counts weekends and the fixed statutory holidays (``portal.statutory_holidays``)
as rest days, and every result that depended on such a year names it in ``fallback_years``,
so pages can warn; an unknown year never raises.

The fallback is a guess: the arrangement may add bridge days off. Nothing of legal effect is
decided on it (LAW.md "Counting days"), so a deadline counted on the fallback also carries
``latest_possible_last_day``, counted as if every weekday near a fixed holiday were a rest
day: no published arrangement can end the period later. A party's act up to then is not
refused as late, no surcharge day is charged before it, an agency does not decide before it;
once the year's arrangement is loaded, every deadline is recomputed from its inputs and the
two dates are one. Likewise a hearing notice counted on the fallback is judged by the earliest
the notice may be needed (``HearingNoticeLimit.protective_notice_date``). Nothing here reads
the clock, the database or settings.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from dataclasses import replace as _replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from portal.holiday_table import DayKind, HolidayTable, package_table
from portal.statutory_holidays import is_fixed_holiday, may_be_bridge_day

CHINA_TZ = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
_APL_WORKING_DAY_PERIODS = frozenset({2, 3, 5, 7})  # APL art. 85: "二日、三日、五日、七日"

_APL = "《中华人民共和国行政处罚法》"


def china_date(instant: datetime) -> date:
    """The China date of an aware instant: legal dates are dates in China Standard Time."""
    return _aware(instant).astimezone(CHINA_TZ).date()


def end_of_china_day_utc(day: date) -> datetime:
    """24:00 China time of ``day`` (00:00 of the next day) as an aware UTC instant."""
    return datetime.combine(day + _ONE_DAY, time(), CHINA_TZ).astimezone(UTC)


def _aware(instant: datetime) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError("a naive datetime is not an instant: give it a timezone")
    return instant


def day_text(day: date) -> str:
    """The portal's one way of writing a date, on pages and in documents: 2026年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def time_text(instant: datetime, precision: str = "minute") -> str:
    """An instant in China time, in the one date format: ``date`` (2026年3月5日), ``minute``
    (2026年3月5日 14:05), ``second`` (… 14:05:09, where the second matters: a service time)
    or ``microsecond`` (… 14:05:09.123456, as recorded: the service receipt, for a court)."""
    local = _aware(instant).astimezone(CHINA_TZ)
    if precision == "date":
        return day_text(local.date())
    clock = {"minute": f"{local:%H:%M}", "second": f"{local:%H:%M:%S}",
             "microsecond": f"{local:%H:%M:%S.%f}"}[precision]
    return f"{day_text(local.date())} {clock}"


def fallback_warning(years: tuple[int, ...]) -> str | None:
    """The warning a page shows when a result counted ``years`` on the fallback."""
    if not years:
        return None
    named = "、".join(f"{year}年" for year in years)
    return (f"{named}放假调休安排尚未公布，暂按周末和法定节假日计算，仅供参考；"
            "安排公布后重新计算，在此之前不以此日期认定逾期")


@dataclass(frozen=True)
class HolidayCalendar:
    """Holiday tables in priority order: the first table that lists a date, or covers its
    year, decides whether it is a working day; with none, the fallback: Monday to Friday are
    working days unless a fixed statutory holiday, and with ``bridges_assumed`` unless near
    one too (the latest any arrangement could end a period)."""

    tables: tuple[HolidayTable, ...] = ()
    bridges_assumed: bool = False

    def assuming_bridges(self) -> HolidayCalendar:
        """This calendar, with every possible bridge day of an unknown year a rest day."""
        return _replace(self, bridges_assumed=True)

    @classmethod
    def standard(cls, operator_table: HolidayTable | None = None) -> HolidayCalendar:
        """The operator's table, when one is loaded, over the ``chinese-calendar`` package."""
        tables = (package_table(),) if operator_table is None else (operator_table, package_table())
        return cls(tables)

    def covers(self, year: int) -> bool:
        """Whether some table holds the arrangement of ``year``."""
        return any(year in table.years for table in self.tables)

    def unknown_years(self, first: date, last: date) -> tuple[int, ...]:
        """The years from ``first`` to ``last`` (inclusive) that no table covers."""
        return tuple(y for y in range(first.year, last.year + 1) if not self.covers(y))

    def is_working_day(self, day: date) -> bool:
        """False for statutory holidays and ordinary weekends; true for 调休 weekends."""
        for table in self.tables:
            listed = table.days.get(day)
            if listed is not None:
                return listed.kind is DayKind.WORKDAY
            if day.year in table.years:
                return day.weekday() < 5
        if day.weekday() >= 5 or is_fixed_holiday(day):
            return False
        return not (self.bridges_assumed and may_be_bridge_day(day))

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it when ``n`` < 0); ``day`` itself
        is not counted, and is returned as it is when ``n`` is 0."""
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        for _ in range(abs(n)):
            day += step
            while not self.is_working_day(day):
                day += step
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """The working days after ``start`` up to and including ``end`` (the start day is not
        counted); negative when ``end`` is earlier, so that
        ``working_days_between(d, add_working_days(d, n)) == n`` for every ``n``."""
        if end < start:
            return -self.working_days_between(end - _ONE_DAY, start - _ONE_DAY)
        span = (end - start).days
        return sum(self.is_working_day(start + timedelta(days=k)) for k in range(1, span + 1))


class PeriodUnit(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"


@dataclass(frozen=True)
class Period:
    n: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"a period lasts at least one unit, got {self.n}")

    @classmethod
    def apl_days(cls, n: int) -> Period:
        """The APL's "``n`` days": working days for 2, 3, 5 and 7, else calendar days
        (APL art. 85)."""
        if n in _APL_WORKING_DAY_PERIODS:
            return cls(n, PeriodUnit.WORKING_DAYS)
        return cls(n, PeriodUnit.CALENDAR_DAYS)

    def describe(self) -> str:
        """How the period is counted, in the words the party reads."""
        moved = "期满日为法定节假日或休息日的，顺延至其后第一个工作日"
        if self.unit is PeriodUnit.WORKING_DAYS:
            return f"{self.n}个工作日，不含法定节假日"
        if self.unit is PeriodUnit.CALENDAR_DAYS:
            return f"{self.n}日（自然日），{moved}"
        return f"{self.n}个月（到期月的对应日为期满日，无对应日的为该月最后一日），{moved}"

    def nominal_last_day(self, start: date, calendar: HolidayCalendar) -> date:
        """The last day before any move for a rest day; ``start`` itself is not counted."""
        if self.unit is PeriodUnit.WORKING_DAYS:
            return calendar.add_working_days(start, self.n)
        if self.unit is PeriodUnit.CALENDAR_DAYS:
            return start + timedelta(days=self.n)
        carry, month_index = divmod(start.month - 1 + self.n, 12)
        year, month = start.year + carry, month_index + 1
        return date(year, month, min(start.day, monthrange(year, month)[1]))


class Trigger(StrEnum):
    """The event a period runs from; the value is the word the party reads."""

    SERVED = "送达"
    INFORMED = "告知"
    DECIDED = "作出决定"


@dataclass(frozen=True)
class Deadline:
    """A computed deadline, with everything needed to show how it was counted.

    ``start_date`` is the China date of the triggering event (``start_at_utc`` the instant,
    when one was given); ``nominal_last_day`` is where the period fell before a move for a
    rest day; ``last_day`` is the last day of the period and ``ends_at_utc`` its exclusive
    end, 24:00 China time of ``last_day``. ``fallback_years`` are the years without holiday
    data among the days that decided the result; ``basis`` names the articles for the party.
    ``latest_possible_last_day`` is set only when counted on the fallback: the latest day any
    arrangement could make the last (see the module docstring).
    """

    trigger: Trigger
    start_date: date
    period: Period
    nominal_last_day: date
    last_day: date
    ends_at_utc: datetime
    fallback_years: tuple[int, ...]
    basis: str
    start_at_utc: datetime | None = None
    latest_possible_last_day: date | None = None

    @property
    def moved_for_rest_day(self) -> bool:
        return self.last_day != self.nominal_last_day

    @property
    def latest_last_day(self) -> date:
        """The day nothing is held against the party before: ``last_day`` once certain."""
        return max(self.last_day, self.latest_possible_last_day or self.last_day)

    @property
    def latest_ends_at_utc(self) -> datetime:
        return end_of_china_day_utc(self.latest_last_day)

    def may_be_met_by(self, instant: datetime) -> bool:
        """Whether an act at ``instant`` may be in time under the arrangement still to come:
        such an act is never refused as late (LAW.md "Counting days")."""
        return _aware(instant) < self.latest_ends_at_utc

    @property
    def uses_fallback(self) -> bool:
        return bool(self.fallback_years)

    @property
    def fallback_warning(self) -> str | None:
        return fallback_warning(self.fallback_years)

    def is_met_by(self, instant: datetime) -> bool:
        """Whether an act at ``instant`` (aware) is within the period."""
        return _aware(instant) < self.ends_at_utc

    def explain(self) -> str:
        parts = [f"{self.trigger.value}于 {day_text(self.start_date)}", self.period.describe()]
        if self.moved_for_rest_day:
            nominal, last = day_text(self.nominal_last_day), day_text(self.last_day)
            parts.append(f"{nominal}为法定节假日或休息日，顺延至{last}")
        parts.append(f"截止 {day_text(self.last_day)} 24:00")
        if self.fallback_warning:
            parts.append(self.fallback_warning)
        return "；".join(parts)


def compute_deadline(
    start: date | datetime,
    period: Period,
    calendar: HolidayCalendar,
    *,
    trigger: Trigger,
    basis: str,
) -> Deadline:
    """The deadline of ``period`` running from ``start`` (a China date, or an aware instant
    whose China date is taken); ``basis`` names the rule for the party."""
    if isinstance(start, datetime):
        start_date, start_at_utc = china_date(start), start.astimezone(UTC)
    else:
        start_date, start_at_utc = start, None
    nominal = period.nominal_last_day(start_date, calendar)
    last_day = calendar.next_working_day(nominal)
    # Which days decided the result: every counted day for working days, else the days from
    # the nominal last day to the moved one.
    first_consulted = start_date + _ONE_DAY if period.unit is PeriodUnit.WORKING_DAYS else nominal
    fallback_years = calendar.unknown_years(first_consulted, last_day)
    latest = None
    if fallback_years:
        bridged = calendar.assuming_bridges()
        latest = bridged.next_working_day(period.nominal_last_day(start_date, bridged))
    return Deadline(
        trigger=trigger,
        start_date=start_date,
        period=period,
        nominal_last_day=nominal,
        last_day=last_day,
        ends_at_utc=end_of_china_day_utc(last_day),
        fallback_years=fallback_years,
        basis=basis,
        start_at_utc=start_at_utc,
        latest_possible_last_day=latest,
    )


def statement_deadline(informed: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """Window for stating and defending (陈述、申辩) after the prior notice (APL art. 44, 45).

    The law fixes no period for it; the portal gives the 5 working days of the hearing request
    (APL art. 64(1), 85), so that one prior notice carries one window for every right.
    """
    return compute_deadline(
        informed,
        Period.apl_days(5),
        calendar,
        trigger=Trigger.INFORMED,
        basis=f"{_APL}第四十四条、第四十五条、第六十四条第一项、第八十五条",
    )


def hearing_request_deadline(informed: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """A hearing must be requested within 5 days (working days) of being informed
    (APL art. 64(1), 85)."""
    return compute_deadline(
        informed,
        Period.apl_days(5),
        calendar,
        trigger=Trigger.INFORMED,
        basis=f"{_APL}第六十四条第一项、第八十五条",
    )


def decision_service_deadline(decided: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """A decision not handed over on the spot is served within 7 days (working days) of its
    announcement (APL art. 61, 85)."""
    return compute_deadline(
        decided,
        Period.apl_days(7),
        calendar,
        trigger=Trigger.DECIDED,
        basis=f"{_APL}第六十一条、第八十五条",
    )


def payment_deadline(served: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """A fine is paid within 15 days (calendar days) of receiving the decision (APL art. 67)."""
    return compute_deadline(
        served,
        Period.apl_days(15),
        calendar,
        trigger=Trigger.SERVED,
        basis=f"{_APL}第六十七条",
    )


def reconsideration_deadline(served: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """Administrative reconsideration is applied for within 60 days of knowing of the act
    (Administrative Reconsideration Law art. 20); the portal runs it from service."""
    return compute_deadline(
        served,
        Period(60, PeriodUnit.CALENDAR_DAYS),
        calendar,
        trigger=Trigger.SERVED,
        basis="《中华人民共和国行政复议法》第二十条",
    )


def lawsuit_deadline(served: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """An administrative lawsuit is filed within 6 months of knowing of the act
    (Administrative Procedure Law art. 46); the portal runs it from service."""
    return compute_deadline(
        served,
        Period(6, PeriodUnit.MONTHS),
        calendar,
        trigger=Trigger.SERVED,
        basis="《中华人民共和国行政诉讼法》第四十六条",
    )


def publicity_deadline(decided: date | datetime, calendar: HolidayCalendar) -> Deadline:
    """A decision is published within 7 working days of being made (State Council Office
    guidance on the three enforcement systems, 2018)."""
    return compute_deadline(
        decided,
        Period(7, PeriodUnit.WORKING_DAYS),
        calendar,
        trigger=Trigger.DECIDED,
        basis="《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度"
        "重大执法决定法制审核制度的指导意见》（国办发〔2018〕118号）",
    )


@dataclass(frozen=True)
class HearingNoticeLimit:
    """The latest notice for a hearing: 7 working days must lie wholly between the day of
    notice and the day of the hearing, neither of them counted.

    That is the same as saying the 7-working-day period starting with the notice must have
    ended before the hearing day; ``notice_by_utc`` is the exclusive end, 24:00 China time of
    ``latest_notice_date``. Counted on the fallback, ``protective_notice_date`` is the latest
    notice day that leaves 7 working days whatever the arrangement still to come makes rest
    days (bridge days taken as rest): a notice after it may turn out too short.
    """

    hearing_date: date
    latest_notice_date: date
    notice_by_utc: datetime
    fallback_years: tuple[int, ...]
    basis: str
    protective_notice_date: date | None = None

    @property
    def uses_fallback(self) -> bool:
        return bool(self.fallback_years)

    @property
    def fallback_warning(self) -> str | None:
        return fallback_warning(self.fallback_years)

    def is_met_by(self, notified_at: datetime) -> bool:
        """Whether a notice given at ``notified_at`` (aware) is early enough."""
        return _aware(notified_at) < self.notice_by_utc

    def certainly_met_by(self, notified_at: datetime) -> bool:
        """Whether the notice is early enough under any arrangement still to come."""
        earliest = min(self.latest_notice_date, self.protective_notice_date or self.latest_notice_date)
        return _aware(notified_at) < end_of_china_day_utc(earliest)

    def explain(self) -> str:
        parts = [
            f"听证定于 {day_text(self.hearing_date)}",
            "通知之日与听证之日之间应有7个工作日（两日均不计入，不含法定节假日）",
            f"最迟于 {day_text(self.latest_notice_date)} 24:00 前通知",
        ]
        if self.fallback_warning:
            parts.append(self.fallback_warning)
        return "；".join(parts)


def hearing_notice_limit(hearing_date: date, calendar: HolidayCalendar) -> HearingNoticeLimit:
    """The latest day to notify the party of a hearing's time and place: at least 7 days
    (working days) before it (APL art. 64(2), 85)."""
    seventh_before = calendar.add_working_days(hearing_date, -7)
    latest = seventh_before - _ONE_DAY
    fallback_years = calendar.unknown_years(seventh_before, hearing_date - _ONE_DAY)
    protective = None
    if fallback_years:
        protective = calendar.assuming_bridges().add_working_days(hearing_date, -7) - _ONE_DAY
    return HearingNoticeLimit(
        hearing_date=hearing_date,
        latest_notice_date=latest,
        notice_by_utc=end_of_china_day_utc(latest),
        fallback_years=fallback_years,
        basis=f"{_APL}第六十四条第二项、第八十五条",
        protective_notice_date=protective,
    )
