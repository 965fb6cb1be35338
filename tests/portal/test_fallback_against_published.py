"""The fallback against the published 2025 and 2026 arrangements, as if they were unknown.

LAW.md "Counting days": for a year not loaded the portal counts weekends and the fixed
statutory holidays, shows that guess with a warning, and decides nothing on it: an act is not
refused before ``latest_last_day``, no surcharge day is charged before it, an agency must have
notified a hearing by ``protective_notice_date``. This runs every start day from November 2024
to December 2026 through each period with the State Council's arrangements for 2025 and 2026
hidden, prints how often and by how much the date shown differs from the official one, and
checks that in every case the party is no worse off than under the official calendar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pytest

import payments
from portal.holiday_table import HolidayTable, package_table
from portal.legal_calendar import (
    Deadline,
    HolidayCalendar,
    hearing_notice_limit,
    hearing_request_deadline,
    lawsuit_deadline,
    payment_deadline,
    reconsideration_deadline,
    statement_deadline,
)

HIDDEN = {2025, 2026}
OFFICIAL = HolidayCalendar.standard()
_PACKAGE = package_table()
AS_IF_UNKNOWN = HolidayCalendar((HolidayTable.from_days(
    (entry for entry in _PACKAGE.days.values() if entry.year not in HIDDEN),
    _PACKAGE.years - HIDDEN),))
FIRST, LAST = date(2024, 11, 1), date(2026, 12, 31)
STARTS = [FIRST + timedelta(days=k) for k in range((LAST - FIRST).days + 1)]
RULES: dict[str, Callable[[date, HolidayCalendar], Deadline]] = {
    "陈述申辩 5 working days (APL art. 45, 85)": statement_deadline,
    "听证申请 5 working days (APL art. 64(1), 85)": hearing_request_deadline,
    "缴纳罚款 15 days (APL art. 67)": payment_deadline,
    "行政复议 60 days (ARL art. 20)": reconsideration_deadline,
    "行政诉讼 6 months (APL art. 46)": lawsuit_deadline,
}


def _spread(differences: Counter[int]) -> str:
    return ", ".join(f"{days:+d} d x{count}" for days, count in sorted(differences.items()))


@pytest.mark.parametrize("name", list(RULES))
def test_fallback_deadlines_never_worse_for_the_party(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # LAW.md "Counting days"; APL art. 72, 85: an act the official calendar accepts, the
    # fallback accepts too; a surcharge day the official calendar does not charge, the
    # fallback does not charge either.
    rule = RULES[name]
    shown: Counter[int] = Counter()
    leeway: Counter[int] = Counter()
    on_fallback = 0
    for start in STARTS:
        official, guessed = rule(start, OFFICIAL), rule(start, AS_IF_UNKNOWN)
        if official.uses_fallback:
            continue  # reaches 2027, which nobody knows yet: the same guess both ways
        on_fallback += guessed.uses_fallback
        if guessed.last_day != official.last_day:
            shown[(guessed.last_day - official.last_day).days] += 1
        leeway[(guessed.latest_last_day - official.last_day).days] += 1
        # act accepted: an act on the official last day (at 23:59:59) may never be refused
        assert guessed.may_be_met_by(official.ends_at_utc - timedelta(seconds=1)), start
        if rule is payment_deadline:
            _no_more_surcharge(official, guessed)
    with capsys.disabled():
        print(f"\n{name}: {on_fallback} start days counted on the fallback; "
              f"date shown differs from the official in {sum(shown.values())} "
              f"({_spread(shown) or 'never'}); latest possible day vs official: {_spread(leeway)}")
    assert min(leeway) >= 0


def _no_more_surcharge(official: Deadline, guessed: Deadline) -> None:
    """On every day from the official due date to 10 days after the latest possible one, the
    fallback's quote charges no more than the official one (3% a day, APL art. 72(1))."""
    fine = 100_000
    day = official.last_day
    while day <= guessed.latest_last_day + timedelta(days=10):
        official_quote = payments.amount_due(payments.Fine(fine, official.last_day), day)
        guessed_quote = payments.amount_due(payments.Fine(fine, guessed.latest_last_day), day)
        assert guessed_quote.total_fen <= official_quote.total_fen, (official.start_date, day)
        day += timedelta(days=1)


def test_hearing_notice_on_the_fallback_is_never_later_than_the_official(
        capsys: pytest.CaptureFixture[str]) -> None:
    # APL art. 64(2), 85: an agency told a notice is certainly early enough has given the
    # party its 7 working days under the official calendar too.
    shown: Counter[int] = Counter()
    margin: Counter[int] = Counter()
    for hearing in STARTS:
        official = hearing_notice_limit(hearing, OFFICIAL)
        guessed = hearing_notice_limit(hearing, AS_IF_UNKNOWN)
        if official.uses_fallback:
            continue
        if guessed.latest_notice_date != official.latest_notice_date:
            shown[(guessed.latest_notice_date - official.latest_notice_date).days] += 1
        protective = guessed.protective_notice_date or guessed.latest_notice_date
        margin[(protective - official.latest_notice_date).days] += 1
        assert protective <= official.latest_notice_date, hearing
    with capsys.disabled():
        print(f"\n听证通知 7 working days ahead (APL art. 64(2), 85): {sum(margin.values())} hearing days; "
              f"latest notice shown differs in {sum(shown.values())} ({_spread(shown)}); "
              f"certainly-enough notice vs official: {_spread(margin)}")
