"""The legal calendar: worked examples, the 24:00 boundary, holiday data and properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.holiday_table import (
    CalendarDay,
    CalendarFileError,
    DayKind,
    HolidayTable,
    package_table,
    parse_calendar_file,
)
from portal.legal_calendar import (
    CHINA_TZ,
    Deadline,
    HolidayCalendar,
    Period,
    PeriodUnit,
    Trigger,
    china_date,
    compute_deadline,
    decision_service_deadline,
    hearing_notice_limit,
    hearing_request_deadline,
    lawsuit_deadline,
    payment_deadline,
    publicity_deadline,
    reconsideration_deadline,
    statement_deadline,
)
from tests.builders import TABLE_2027

PACKAGE = HolidayCalendar.standard()
FALLBACK_ONLY = HolidayCalendar()

WITH_2027 = HolidayCalendar.standard(parse_calendar_file(TABLE_2027))

Rule = Callable[[date, HolidayCalendar], Deadline]
D = date


# (rule, start, expected last day, moved for a rest day, fallback years)
WORKED_EXAMPLES: list[tuple[Rule, date, date, bool, tuple[int, ...]]] = [
    # APL art. 64(1), 85: Thu 20 Nov 2025 + 5 working days, plain weeks -> Thu 27 Nov.
    (hearing_request_deadline, D(2025, 11, 20), D(2025, 11, 27), False, ()),
    # APL art. 64(1), 85: across Mid-Autumn (25-27 Sep) and National Day (1-7 Oct) 2026.
    (hearing_request_deadline, D(2026, 9, 24), D(2026, 10, 9), False, ()),
    # APL art. 44, 45, 64(1), 85: the statement window is the same 5 working days.
    (statement_deadline, D(2026, 9, 24), D(2026, 10, 9), False, ()),
    # APL art. 61, 85: Saturday 10 Oct 2026 is a 调休 working day and is counted.
    (decision_service_deadline, D(2026, 9, 24), D(2026, 10, 12), False, ()),
    # APL art. 64(1), 85: across Spring Festival 2026 (15-23 Feb), Sat 14 Feb counted.
    (hearing_request_deadline, D(2026, 2, 12), D(2026, 2, 26), False, ()),
    # State Council guidance 2018: publicity across Labour Day 2026, Sat 9 May counted.
    (publicity_deadline, D(2026, 4, 30), D(2026, 5, 13), False, ()),
    # APL art. 67; Civil Procedure Law art. 85: 15 days end on National Day -> 8 Oct.
    (payment_deadline, D(2026, 9, 16), D(2026, 10, 8), True, ()),
    # APL art. 67: 15 days end on Spring Festival Monday 16 Feb -> Tue 24 Feb.
    (payment_deadline, D(2026, 2, 1), D(2026, 2, 24), True, ()),
    # APL art. 67: 15 days end on an ordinary Saturday -> Monday.
    (payment_deadline, D(2026, 11, 20), D(2026, 12, 7), True, ()),
    # APL art. 67: 15 days end on Saturday 10 Oct 2026, a 调休 working day: not moved.
    (payment_deadline, D(2026, 9, 25), D(2026, 10, 10), False, ()),
    # Administrative Reconsideration Law art. 20: 60 days end on 1 Oct 2026 -> 8 Oct.
    (reconsideration_deadline, D(2026, 8, 2), D(2026, 10, 8), True, ()),
    # Administrative Procedure Law art. 46; Civil Code art. 202: same day six months on.
    (lawsuit_deadline, D(2026, 3, 31), D(2026, 9, 30), False, ()),
    # Civil Code art. 202: 31 Aug + 6 months has no 31 Feb -> 28 Feb 2026, a 调休 Saturday.
    (lawsuit_deadline, D(2025, 8, 31), D(2026, 2, 28), False, ()),
    # Civil Code art. 202, 203: 1 Apr + 6 months = 1 Oct 2026, National Day -> 8 Oct.
    (lawsuit_deadline, D(2026, 4, 1), D(2026, 10, 8), True, ()),
    # APL art. 64(1), 85; LAW.md fallback: 2027 unknown, but 1 Jan 2027 (Fri) is 元旦 by law,
    # so the fifth working day is Tue 5 Jan (counting weekdays only gave Mon 4 Jan).
    (hearing_request_deadline, D(2026, 12, 28), D(2027, 1, 5), False, (2027,)),
    # APL art. 67; LAW.md fallback: 15 days end on Mon 4 Jan 2027, a 2027 day -> flagged.
    (payment_deadline, D(2026, 12, 20), D(2027, 1, 4), False, (2027,)),
    # APL art. 67: 15 days end within 2026; no 2027 day decides anything -> no flag.
    (payment_deadline, D(2026, 12, 10), D(2026, 12, 25), False, ()),
    # Civil Code art. 202, 203; fallback: 31 Aug 2026 + 6 months = Sun 28 Feb 2027 -> 1 Mar.
    (lawsuit_deadline, D(2026, 8, 31), D(2027, 3, 1), True, (2027,)),
    # APL art. 64(1), 85: the start day's year is not counted: 2003 has no data, but the
    # counted days all lie in 2004 (1 Jan 2004 is New Year's Day).
    (hearing_request_deadline, D(2003, 12, 31), D(2004, 1, 8), False, ()),
]


@pytest.mark.parametrize(("rule", "start", "last_day", "moved", "fallback"), WORKED_EXAMPLES)
def test_worked_examples(
    rule: Rule, start: date, last_day: date, moved: bool, fallback: tuple[int, ...]
) -> None:
    # APL art. 61, 64, 67, 85; Civil Procedure Law art. 85; Civil Code art. 201-203
    deadline = rule(start, PACKAGE)
    assert deadline.last_day == last_day
    assert deadline.moved_for_rest_day is moved
    assert deadline.fallback_years == fallback
    assert deadline.uses_fallback is bool(fallback)


def test_package_2026_matches_the_state_council_notice() -> None:
    # LAW.md "Counting days": 国务院办公厅关于2026年部分节假日安排的通知 (4 Nov 2025), checked
    # against the package's data rather than assumed.
    rest = [
        (D(2026, 1, 1), D(2026, 1, 3)),
        (D(2026, 2, 15), D(2026, 2, 23)),
        (D(2026, 4, 4), D(2026, 4, 6)),
        (D(2026, 5, 1), D(2026, 5, 5)),
        (D(2026, 6, 19), D(2026, 6, 21)),
        (D(2026, 9, 25), D(2026, 9, 27)),
        (D(2026, 10, 1), D(2026, 10, 7)),
    ]
    workdays = {
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    }
    holidays = {a + timedelta(days=k) for a, b in rest for k in range((b - a).days + 1)}
    listed = {d: e.kind for d, e in package_table().days.items() if d.year == 2026}
    assert {d for d, kind in listed.items() if kind is DayKind.HOLIDAY} == holidays
    assert {d for d, kind in listed.items() if kind is DayKind.WORKDAY} == workdays


def test_operator_table_for_2027_removes_the_fallback_and_changes_the_result() -> None:
    # LAW.md "Counting days": the portal's own table covers years the package does not.
    before = payment_deadline(D(2026, 12, 20), PACKAGE)
    after = payment_deadline(D(2026, 12, 20), WITH_2027)
    assert (before.last_day, before.uses_fallback) == (D(2027, 1, 4), True)
    # The table adds nothing on 4 Jan: the same day, now certain.
    assert (after.last_day, after.uses_fallback, after.fallback_years) == (D(2027, 1, 4), False, ())
    assert after.latest_last_day == D(2027, 1, 4)
    assert "尚未公布" not in after.explain()
    # APL art. 61, 85: Saturday 20 Feb 2027 is a working day in the table and is counted.
    assert decision_service_deadline(D(2027, 2, 17), WITH_2027).last_day == D(2027, 2, 25)
    assert decision_service_deadline(D(2027, 2, 17), PACKAGE).last_day == D(2027, 2, 26)


def test_operator_table_replaces_the_package_for_its_years() -> None:
    # LAW.md "Counting days": the operator's table overrides the package for years it has.
    only_new_year = parse_calendar_file("year,date,kind,name\n2026,2026-01-01,holiday,元旦\n")
    calendar = HolidayCalendar.standard(only_new_year)
    assert not PACKAGE.is_working_day(D(2026, 10, 1))
    assert calendar.is_working_day(D(2026, 10, 1))
    assert not calendar.is_working_day(D(2026, 1, 1))
    # Friday 2 Jan 2026 is a holiday in the package but not in this table.
    assert not PACKAGE.is_working_day(D(2026, 1, 2))
    assert calendar.is_working_day(D(2026, 1, 2))
    # Other years still come from the package: Sunday 28 Sep 2025 was a 调休 working day.
    assert calendar.is_working_day(D(2025, 9, 28))


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


def test_last_day_is_in_time_until_24_00_china_time() -> None:
    # APL art. 64(1), 85; LAW.md: a period ends at 24:00 China time of its last day.
    deadline = hearing_request_deadline(D(2025, 11, 20), PACKAGE)
    assert deadline.ends_at_utc == datetime(2025, 11, 27, 16, 0, tzinfo=UTC)
    assert deadline.ends_at_utc.tzinfo is UTC
    assert deadline.is_met_by(china(2025, 11, 27, 23, 59, 59))
    assert not deadline.is_met_by(china(2025, 11, 28, 0, 0, 0))
    assert china(2025, 11, 27, 23, 59, 59).astimezone(UTC) < deadline.ends_at_utc
    with pytest.raises(ValueError, match="naive"):
        deadline.is_met_by(datetime(2025, 11, 27, 12, 0))


def test_start_day_is_not_counted_and_is_the_china_date_of_the_instant() -> None:
    # Civil Procedure Law art. 85; APL art. 64(1), 85: informed on Monday 23 Nov 2026, the
    # five working days are 24-27 Nov and Mon 30 Nov, wherever in the day the service fell.
    early = hearing_request_deadline(china(2026, 11, 23, 0, 0, 1), PACKAGE)
    late = hearing_request_deadline(china(2026, 11, 23, 23, 59, 59), PACKAGE)
    assert early.last_day == late.last_day == D(2026, 11, 30)
    # 23:59 China time on 22 Nov is 15:59 UTC on 22 Nov; 00:00 on 23 Nov is 16:00 UTC.
    before_midnight = datetime(2026, 11, 22, 15, 59, tzinfo=UTC)
    assert china_date(before_midnight) == D(2026, 11, 22)
    assert china_date(datetime(2026, 11, 22, 16, 0, tzinfo=UTC)) == D(2026, 11, 23)
    deadline = hearing_request_deadline(before_midnight, PACKAGE)
    assert (deadline.start_date, deadline.last_day) == (D(2026, 11, 22), D(2026, 11, 27))
    assert deadline.start_at_utc == before_midnight
    with pytest.raises(ValueError, match="naive"):
        china_date(datetime(2026, 11, 22, 12, 0))


def test_calendar_day_period_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    # APL art. 67; Civil Procedure Law art. 85: 16 Sep 2026 + 15 days = 1 Oct, National Day.
    deadline = payment_deadline(D(2026, 9, 16), PACKAGE)
    assert deadline.nominal_last_day == D(2026, 10, 1)
    assert deadline.last_day == D(2026, 10, 8)
    assert deadline.moved_for_rest_day
    assert deadline.ends_at_utc == datetime(2026, 10, 8, 16, 0, tzinfo=UTC)


def test_explain_says_how_the_deadline_was_counted() -> None:
    # APL art. 64(1), 85: working days.
    assert hearing_request_deadline(D(2025, 11, 20), PACKAGE).explain() == (
        "告知于 2025年11月20日；5个工作日，不含法定节假日；截止 2025年11月27日 24:00"
    )
    # APL art. 67; Civil Procedure Law art. 85: calendar days, moved past National Day.
    assert payment_deadline(D(2026, 9, 16), PACKAGE).explain() == (
        "送达于 2026年9月16日；15日（自然日），期满日为法定节假日或休息日的，"
        "顺延至其后第一个工作日；2026年10月1日为法定节假日或休息日，顺延至2026年10月8日；"
        "截止 2026年10月8日 24:00"
    )
    # LAW.md "Counting days": a year without data is counted with weekends and the fixed
    # statutory holidays, with a warning that says so and that nothing is held late on it.
    fallback = payment_deadline(D(2026, 12, 20), PACKAGE)
    assert fallback.fallback_warning == (
        "2027年放假调休安排尚未公布，暂按周末和法定节假日计算，仅供参考；"
        "安排公布后重新计算，在此之前不以此日期认定逾期")
    assert fallback.explain().endswith("；截止 2027年1月4日 24:00；" + fallback.fallback_warning)
    assert "第六十七条" in fallback.basis


def test_hearing_notice_at_least_seven_working_days_before() -> None:
    # APL art. 64(2), 85: for a hearing on Mon 12 Oct 2026 the seven working days between
    # notice and hearing are 24, 28, 29, 30 Sep, 8, 9 and Sat 10 Oct: notify by 23 Sep.
    limit = hearing_notice_limit(D(2026, 10, 12), PACKAGE)
    assert limit.latest_notice_date == D(2026, 9, 23)
    assert limit.is_met_by(china(2026, 9, 23, 23, 59, 59))
    assert not limit.is_met_by(china(2026, 9, 24, 0, 0, 0))
    assert not limit.uses_fallback
    assert limit.explain().endswith("最迟于 2026年9月23日 24:00 前通知")
    # LAW.md fallback: a hearing in January 2027 is counted on the fallback for 2027: the
    # seven working days before Tue 12 Jan are 31 Dec and 4-11 Jan (1 Jan is 元旦), notice by
    # 30 Dec; 4-6 Jan may yet be bridge days, so only a notice by 27 Dec is certainly enough.
    fallback = hearing_notice_limit(D(2027, 1, 12), PACKAGE)
    assert fallback.fallback_years == (2027,)
    assert (fallback.latest_notice_date, fallback.protective_notice_date) == (D(2026, 12, 30),
                                                                            D(2026, 12, 27))
    assert fallback.certainly_met_by(china(2026, 12, 27, 23, 59))
    assert not fallback.certainly_met_by(china(2026, 12, 28, 0, 0))
    assert fallback.is_met_by(china(2026, 12, 30, 23, 59))
    assert hearing_notice_limit(D(2027, 1, 12), WITH_2027).fallback_years == ()


def test_period_units_follow_apl_article_85() -> None:
    # APL art. 85: 2, 3, 5, 7 days are working days; other numbers of days are calendar days.
    for n in (2, 3, 5, 7):
        assert Period.apl_days(n).unit is PeriodUnit.WORKING_DAYS
    for n in (1, 4, 10, 15, 60):
        assert Period.apl_days(n).unit is PeriodUnit.CALENDAR_DAYS
    with pytest.raises(ValueError):
        Period(0, PeriodUnit.CALENDAR_DAYS)


def test_calendar_file_accepts_comments_blank_lines_and_a_byte_order_mark() -> None:
    # LAW.md "Counting days": the operator's table, as `portal calendar load FILE` reads it.
    table = parse_calendar_file("\ufeffyear,date,kind,name\n\n# 元旦\n2027,2027-01-01,holiday,元旦\n")
    assert table.years == {2027}
    assert table.days[D(2027, 1, 1)] == CalendarDay(2027, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    # The 2012 notice made Saturday 31 Dec 2011 a working day: a row may name the next year.
    cross = parse_calendar_file("year,date,kind,name\n2012,2011-12-31,workday,元旦\n")
    assert HolidayCalendar((cross,)).is_working_day(D(2011, 12, 31))


HEADER = "year,date,kind,name\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", None, "文件为空"),
        ("# only a comment\n", None, "文件为空"),
        ("year,day,kind,name\n2027,2027-01-01,holiday,元旦\n", 1, "表头"),
        (HEADER, None, "没有任何日期"),
        (HEADER + "2027,2027-01-01,holiday\n", 2, "应有 4 列"),
        (HEADER + "27,2027-01-01,holiday,元旦\n", 2, "年份"),
        (HEADER + "2027,2027/01/01,holiday,元旦\n", 2, "YYYY-MM-DD"),
        (HEADER + "2027,20270101,holiday,元旦\n", 2, "YYYY-MM-DD"),
        (HEADER + "2027,2027-02-30,holiday,春节\n", 2, "YYYY-MM-DD"),
        (HEADER + "2027,2027-01-01,rest,元旦\n", 2, "holiday 或 workday"),
        (HEADER + "2027,2027-01-04,workday,元旦\n", 2, "周一至周五"),
        (HEADER + "2027,2029-01-01,holiday,元旦\n", 2, "不属于"),
        (HEADER + "1900,1900-01-01,holiday,元旦\n", 2, "不在"),
        (HEADER + "2027,2027-01-01,holiday,\n", 2, "缺少名称"),
        (HEADER + "2027,2027-01-01,holiday,元旦\n# x\n2027,2027-01-01,holiday,元旦\n", 4, "第2行"),
    ],
)
def test_calendar_file_errors_name_the_line_and_the_reason(text: str, line: int | None, reason: str) -> None:
    # LAW.md "Counting days": a bad operator table is refused whole, with a clear reason.
    with pytest.raises(CalendarFileError) as caught:
        parse_calendar_file(text)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert caught.value.code == "calendar_file_invalid"


CELLS = ["2027", "2026", "2027-01-01", "2027-01-02", "2026-12-31", "holiday", "workday", "元旦"]
rows = st.lists(st.one_of(st.sampled_from(CELLS), st.text(max_size=4)), max_size=6).map(",".join)


@given(st.lists(rows, max_size=6).map("\n".join))
def test_calendar_file_parser_refuses_garbage_with_its_own_error_only(text: str) -> None:
    # LAW.md "Counting days": whatever the operator feeds it, a table or a clear refusal.
    try:
        table = parse_calendar_file(HEADER + text)
    except CalendarFileError as error:
        assert error.reason
    else:
        assert all(entry.year in table.years for entry in table.days.values())


def test_table_rows_from_elsewhere_are_checked_too() -> None:
    # LAW.md "Counting days": rows read back from the database get the same checks.
    day = CalendarDay(2027, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    with pytest.raises(CalendarFileError, match="不止一次"):
        HolidayTable.from_days([day, day])


# ---- properties -----------------------------------------------------------------------------

dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 12, 31))
calendars = st.sampled_from([PACKAGE, WITH_2027, FALLBACK_ONLY])
working_periods = st.sampled_from([2, 3, 5, 7]).map(Period.apl_days)
day_periods = st.integers(min_value=1, max_value=400).map(lambda n: Period(n, PeriodUnit.CALENDAR_DAYS))
month_periods = st.integers(min_value=1, max_value=36).map(lambda n: Period(n, PeriodUnit.MONTHS))
RULES: list[Rule] = [
    statement_deadline,
    hearing_request_deadline,
    decision_service_deadline,
    payment_deadline,
    reconsideration_deadline,
    lawsuit_deadline,
    publicity_deadline,
]


def days_from(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def expected_fallback(calendar: HolidayCalendar, consulted: list[date]) -> tuple[int, ...]:
    covered = set().union(*(table.years for table in calendar.tables))
    return tuple(sorted({day.year for day in consulted} - covered))


@given(dates, working_periods, calendars)
def test_working_day_period_ends_on_a_working_day(
    start: date, period: Period, calendar: HolidayCalendar
) -> None:
    # APL art. 85: n working days after the start day, the start day not counted.
    deadline = compute_deadline(start, period, calendar, trigger=Trigger.SERVED, basis="")
    counted = days_from(start + timedelta(days=1), deadline.last_day)
    assert calendar.is_working_day(deadline.last_day)
    assert sum(map(calendar.is_working_day, counted)) == period.n
    assert not deadline.moved_for_rest_day
    # LAW.md fallback: flagged exactly when a counted day lies in a year without data.
    assert deadline.fallback_years == expected_fallback(calendar, counted)


@given(dates, st.one_of(day_periods, month_periods), calendars)
def test_calendar_period_never_early_and_never_on_a_rest_day(
    start: date, period: Period, calendar: HolidayCalendar
) -> None:
    # Civil Procedure Law art. 85; Civil Code art. 201-203: moved only past rest days.
    deadline = compute_deadline(start, period, calendar, trigger=Trigger.SERVED, basis="")
    if period.unit is PeriodUnit.CALENDAR_DAYS:
        assert deadline.nominal_last_day == start + timedelta(days=period.n)
    else:
        months = (deadline.nominal_last_day.year - start.year) * 12
        assert months + deadline.nominal_last_day.month - start.month == period.n
        assert deadline.nominal_last_day.day <= start.day
        next_day = deadline.nominal_last_day + timedelta(days=1)
        assert deadline.nominal_last_day.day == start.day or next_day.day == 1
    assert deadline.last_day >= deadline.nominal_last_day
    assert calendar.is_working_day(deadline.last_day)
    skipped = days_from(deadline.nominal_last_day, deadline.last_day)[:-1]
    assert not any(map(calendar.is_working_day, skipped))
    assert deadline.moved_for_rest_day is bool(skipped)
    # LAW.md fallback: only the days that decided where the period ends are consulted.
    consulted = days_from(deadline.nominal_last_day, deadline.last_day)
    assert deadline.fallback_years == expected_fallback(calendar, consulted)
    assert ("尚未公布" in deadline.explain()) is deadline.uses_fallback


@given(dates, st.integers(min_value=-40, max_value=40), calendars)
def test_add_working_days_and_working_days_between_are_inverse(
    start: date, n: int, calendar: HolidayCalendar
) -> None:
    # APL art. 85: counting n working days and counting them back agree.
    assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


@given(dates, dates, st.integers(min_value=-20, max_value=20), calendars)
def test_add_working_days_is_monotone(a: date, b: date, n: int, calendar: HolidayCalendar) -> None:
    # APL art. 85: a later start or a longer period never gives an earlier day.
    early, late = sorted((a, b))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)
    assert calendar.add_working_days(early, n) < calendar.add_working_days(early, n + 1)


@given(dates, calendars, st.sampled_from(RULES))
def test_no_date_from_2000_to_2100_crashes(day: date, calendar: HolidayCalendar, rule: Rule) -> None:
    # LAW.md "Counting days": an unknown year falls back, it never raises.
    deadline = rule(day, calendar)
    assert deadline.last_day > day
    assert deadline.ends_at_utc == datetime.combine(
        deadline.last_day + timedelta(days=1), datetime.min.time(), CHINA_TZ
    ).astimezone(UTC)
    assert deadline.explain()


@given(dates, calendars)
def test_hearing_notice_limit_is_the_latest_day_that_works(hearing: date, calendar: HolidayCalendar) -> None:
    # APL art. 64(2), 85: notice on the latest day leaves 7 working days before the hearing;
    # a day later does not.
    latest = hearing_notice_limit(hearing, calendar).latest_notice_date
    assert calendar.add_working_days(latest, 7) < hearing
    assert calendar.add_working_days(latest + timedelta(days=1), 7) >= hearing


@given(dates, st.sampled_from(RULES), calendars)
def test_latest_possible_last_day_is_never_earlier_and_set_only_on_the_fallback(
    start: date, rule: Rule, calendar: HolidayCalendar
) -> None:
    # LAW.md "Counting days": nothing is held against a party before the latest day any
    # arrangement could give; once the year is known there is one date.
    deadline = rule(start, calendar)
    assert (deadline.latest_possible_last_day is not None) is deadline.uses_fallback
    assert deadline.latest_last_day >= deadline.last_day
    assert deadline.may_be_met_by(deadline.latest_ends_at_utc - timedelta(microseconds=1))
    assert not deadline.may_be_met_by(deadline.latest_ends_at_utc)
