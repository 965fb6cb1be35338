"""The fixed statutory holidays of any year, for years whose arrangement is not loaded.

The State Council publishes each year's arrangement (放假调休安排) late in the year before;
until it is loaded the portal still knows which days the law itself makes holidays
(全国年节及纪念日放假办法, as revised in 2024, in force from 2025; LAW.md "Counting days"):

- 元旦: 1 January;
- 春节: New Year's Eve (the last day of the twelfth lunar month) to the 3rd day of the first
  lunar month, four days;
- 清明节: the day of the 清明 solar term (4, 5 or 6 April);
- 劳动节: 1 and 2 May;
- 端午节: the 5th day of the fifth lunar month;
- 中秋节: the 15th day of the eighth lunar month;
- 国庆节: 1 to 3 October.

Lunar dates and the solar term come from ``tyme4py`` (6tail's calendar library, the successor
of ``lunar-python``, pure Python and maintained): its new-year, 端午, 中秋 and 清明 dates agree
with ``lunar-python`` for 1901-2099 and with every State Council arrangement in the
``chinese-calendar`` package (2008-2026).

The published arrangement then adds bridge days off (调休放假) around these holidays and makes
some weekends working days (调休上班). Since 2015 every such bridge day lay within five days of
a fixed holiday (2020's epidemic extension of the Spring Festival included), so
``may_be_bridge_day`` answers which weekdays an arrangement might still make rest days: the
portal counts them as rest where a wrong guess would cost a party a right or money
(``portal.legal_calendar``). The revision's rules are applied to every year without data,
also to years before 2025: the package covers 2004-2026, so that only touches 2000-2003.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarDay, SolarTerm

BRIDGE_REACH = timedelta(days=5)
"""How far from a fixed holiday a bridge day off has been seen (2015-2026: at most five)."""
_ONE_DAY = timedelta(days=1)


def _date(day: SolarDay) -> date:
    return date(day.get_year(), day.get_month(), day.get_day())


def _lunar(year: int, month: int, day: int) -> date:
    return _date(LunarDay.from_ymd(year, month, day).get_solar_day())


@functools.cache
def fixed_holidays(year: int) -> Mapping[date, str]:
    """The fixed statutory holidays of ``year`` (see the module docstring), by date.

    New Year's Eve of the lunar year that begins in ``year`` may fall in ``year`` only: the
    lunar new year is never earlier than 21 January.
    """
    found: dict[date, str] = {date(year, 1, 1): "元旦"}
    new_year = _lunar(year, 1, 1)
    for offset in range(-1, 3):
        found[new_year + offset * _ONE_DAY] = "春节"
    found[_date(SolarTerm.from_name(year, "清明").get_julian_day().get_solar_day())] = "清明节"
    found[date(year, 5, 1)] = found[date(year, 5, 2)] = "劳动节"
    found[_lunar(year, 5, 5)] = "端午节"
    found[_lunar(year, 8, 15)] = "中秋节"
    for day in (1, 2, 3):
        found.setdefault(date(year, 10, day), "国庆节")  # 中秋 on 1-3 October keeps its name
    return MappingProxyType(found)


def is_fixed_holiday(day: date) -> bool:
    return day in fixed_holidays(day.year)


def may_be_bridge_day(day: date) -> bool:
    """Whether an arrangement not yet published might make ``day`` a rest day: it lies within
    ``BRIDGE_REACH`` of a fixed holiday (of its own year or of an adjacent one)."""
    return day in _near_fixed_holidays(day.year)


@functools.cache
def _near_fixed_holidays(year: int) -> frozenset[date]:
    reach = BRIDGE_REACH.days
    return frozenset(near for other in (year - 1, year, year + 1) for holiday in fixed_holidays(other)
                     for k in range(-reach, reach + 1)
                     if (near := holiday + k * _ONE_DAY).year == year)
