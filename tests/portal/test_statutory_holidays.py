"""The fallback for years whose arrangement is not loaded: the fixed statutory holidays
(全国年节及纪念日放假办法, 2024 revision), computed from the lunar calendar, and the bridge
days an arrangement still to come may add (LAW.md "Counting days")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.holiday_table import DayKind, package_table
from portal.legal_calendar import HolidayCalendar, hearing_request_deadline, payment_deadline
from portal.statutory_holidays import fixed_holidays, is_fixed_holiday, may_be_bridge_day

D = date
FALLBACK_ONLY = HolidayCalendar()


def test_2027_fixed_holidays_from_the_lunar_calendar() -> None:
    # 全国年节及纪念日放假办法 (2024) art. 2: 13 days. The lunar new year 2027 is 6 February,
    # so 春节 runs from New Year's Eve, 5 Feb, to the third day, 8 Feb; 端午 (5/5) is 9 June,
    # 中秋 (8/15) 15 September; the 清明 solar term falls on 5 April 2027.
    assert dict(fixed_holidays(2027)) == {
        D(2027, 1, 1): "元旦",
        D(2027, 2, 5): "春节", D(2027, 2, 6): "春节", D(2027, 2, 7): "春节", D(2027, 2, 8): "春节",
        D(2027, 4, 5): "清明节",
        D(2027, 5, 1): "劳动节", D(2027, 5, 2): "劳动节",
        D(2027, 6, 9): "端午节",
        D(2027, 9, 15): "中秋节",
        D(2027, 10, 1): "国庆节", D(2027, 10, 2): "国庆节", D(2027, 10, 3): "国庆节",
    }


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_fixed_holiday_is_a_rest_day_in_the_published_arrangement(year: int) -> None:
    # 全国年节及纪念日放假办法 (2024), in force since 2025: the State Council's notices for
    # 2025 and 2026 (as the chinese-calendar package holds them) give every one of these off.
    listed = package_table().days
    for day, name in fixed_holidays(year).items():
        assert day in listed and listed[day].kind is DayKind.HOLIDAY, (day, name)


@pytest.mark.parametrize("year", range(2015, 2027))
def test_every_published_bridge_day_lay_near_a_fixed_holiday(year: int) -> None:
    # LAW.md "Counting days": what the fallback may miss are bridge days off; since 2015 each
    # lay within five days of a fixed holiday, so the latest possible last day covers them.
    # (3-4 Sep 2015, the one-off 80th anniversary of the victory, is not an annual holiday.)
    one_off = {D(2015, 9, 3), D(2015, 9, 4)}
    for day, entry in package_table().days.items():
        if entry.year == year and entry.kind is DayKind.HOLIDAY and day.weekday() < 5 \
                and not is_fixed_holiday(day) and day not in one_off:
            assert may_be_bridge_day(day), day


def test_fallback_counts_fixed_holidays_and_weekends_as_rest() -> None:
    # LAW.md "Counting days": for an unknown year, weekends and the fixed holidays are rest.
    assert not FALLBACK_ONLY.is_working_day(D(2027, 1, 1))  # Friday, 元旦
    assert not FALLBACK_ONLY.is_working_day(D(2027, 2, 8))  # Monday, 初三
    assert not FALLBACK_ONLY.is_working_day(D(2027, 1, 2))  # Saturday
    assert FALLBACK_ONLY.is_working_day(D(2027, 2, 9))  # Tuesday, 初四: an arrangement may
    assert not FALLBACK_ONLY.assuming_bridges().is_working_day(D(2027, 2, 9))  # ... bridge it
    assert FALLBACK_ONLY.assuming_bridges().is_working_day(D(2027, 3, 9))  # far from any


def test_hearing_request_informed_28_december_2026_ends_5_january_2027() -> None:
    # APL art. 64(1), 85: informed Mon 28 Dec 2026, 2027 not loaded: 29, 30, 31
    # Dec, then 1 Jan is 元旦 and 2-3 Jan a weekend, so Mon 4 and Tue 5 Jan: a request on
    # 5 Jan is in time (the weekday-only fallback said 4 Jan and refused it).
    deadline = hearing_request_deadline(D(2026, 12, 28), HolidayCalendar.standard())
    assert deadline.last_day == D(2027, 1, 5)
    assert deadline.fallback_years == (2027,)
    # LAW.md: nothing refused on the fallback alone: 4-6 Jan may be bridge days, so up to
    # Fri 8 Jan no arrangement can make a request late.
    assert deadline.latest_last_day == D(2027, 1, 8)


def test_latest_possible_last_day_is_the_last_day_once_the_year_is_known() -> None:
    # LAW.md "Counting days": with data, the date is certain and there is one date.
    known = payment_deadline(D(2026, 9, 16), HolidayCalendar.standard())
    assert known.latest_possible_last_day is None
    assert known.latest_last_day == known.last_day == D(2026, 10, 8)


def test_every_year_of_a_century_has_a_plausible_count_of_working_days() -> None:
    # LAW.md "Counting days": the fallback never crashes on a year it does not know, and
    # counts 13 fixed holidays (fewer where one falls on a weekend or two coincide).
    for year in range(2027, 2127):
        days = [D(year, 1, 1) + timedelta(days=k) for k in range(366)]
        working = sum(FALLBACK_ONLY.is_working_day(day) for day in days if day.year == year)
        # 104-106 weekend days; of the 13 holidays at least 3 fall on weekdays, at most 13.
        assert 365 - 106 - 13 <= working <= 366 - 104 - 3, year
        assert 11 <= len(fixed_holidays(year)) <= 13
        assert not any(map(FALLBACK_ONLY.is_working_day, fixed_holidays(year)))
