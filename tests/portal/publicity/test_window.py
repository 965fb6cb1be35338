"""The window rules on plain values (``portal.publicity.window``): how long an item is public,
when it may be withdrawn, and when a publication or a withdrawal comes late.

FJ art. 21 (60 days to 2 years), APL art. 48 (withdrawal of a changed, revoked, illegal or
invalid decision overrides the minimum), the State Council Office guidance of 2018 (publish
within 7 working days) and APL art. 85 (those days are working days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.legal_calendar import CHINA_TZ, HolidayCalendar
from portal.publicity.window import (
    PublicityPeriod,
    Window,
    WithdrawalGround,
    late_publication,
    late_withdrawal,
    withdrawal_refusal,
    years_later,
)

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 China time
APL_48 = [g for g in WithdrawalGround if g.is_apl_48]
CALENDAR = HolidayCalendar.standard()


def test_an_item_published_61_days_ago_may_be_withdrawn_on_any_ground() -> None:  # FJ art. 21
    window = Window.opening(START, PublicityPeriod())
    now = START + timedelta(days=61)
    assert all(withdrawal_refusal(window, now, ground) is None for ground in WithdrawalGround)


def test_an_item_published_10_days_ago_may_be_withdrawn_only_on_the_apl_48_grounds() -> None:
    # APL art. 48 overrides the 60-day minimum of FJ art. 21; nothing else does
    window = Window.opening(START, PublicityPeriod())
    now = START + timedelta(days=10)
    assert [withdrawal_refusal(window, now, ground) for ground in APL_48] == [None] * 4
    assert withdrawal_refusal(window, now, WithdrawalGround.OTHER) == "withdrawal_too_early"


def test_the_minimum_ends_exactly_60_days_after_publication() -> None:  # FJ art. 21
    window = Window.opening(START, PublicityPeriod())
    assert window.minimum_end == START + timedelta(days=60)
    early = window.minimum_end - timedelta(microseconds=1)
    assert withdrawal_refusal(window, early, WithdrawalGround.OTHER) == "withdrawal_too_early"
    assert withdrawal_refusal(window, window.minimum_end, WithdrawalGround.OTHER) is None


def test_nothing_is_withdrawn_after_the_window_ended() -> None:  # FJ art. 21
    window = Window.opening(START, PublicityPeriod(90))
    for ground in WithdrawalGround:
        assert withdrawal_refusal(window, window.end, ground) == "publication_expired"


def test_by_default_an_item_is_public_for_two_calendar_years_in_china_time() -> None:  # FJ art. 21
    window = Window.opening(START, PublicityPeriod())
    assert window.end == datetime(2028, 3, 2, 2, 0, tzinfo=UTC)
    assert window.is_public(window.end - timedelta(seconds=1))
    assert not window.is_public(window.end + timedelta(seconds=1))
    assert not window.is_public(START - timedelta(seconds=1))
    # 29 February runs to 28 February; the China date decides, not the UTC one
    leap = datetime(2028, 2, 29, 9, 30, tzinfo=CHINA_TZ)
    assert years_later(leap, 2) == datetime(2030, 2, 28, 9, 30, tzinfo=CHINA_TZ)
    late_evening_utc = datetime(2028, 2, 28, 20, 0, tzinfo=UTC)  # 29 Feb 04:00 in China
    assert years_later(late_evening_utc, 2) == datetime(2030, 2, 27, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(("days", "basis", "error"), [
    (60, None, None), (730, None, None), (59, None, "basis_required"), (731, None, "basis_required"),
    (30, "《某某条例》第二十条", None), (1095, "《严重违法失信名单管理办法》第十八条", None),
    (6, "《某某条例》第二十条", "out_of_range"), (1827, "《某某条例》第二十条", "out_of_range"),
    (None, None, None),
])
def test_a_period_of_its_own_stays_within_the_limits(days: int | None, basis: str | None,
                                                     error: str | None) -> None:
    # FJ art. 21: 60 days to 2 years; outside it only with a law cited, 7 days to 5 years
    problems = PublicityPeriod(days, basis).problems()
    assert problems.get("publicity_days") == error


def test_a_cited_shorter_period_ends_before_the_60_days() -> None:  # FJ art. 21 "unless a law"
    window = Window.opening(START, PublicityPeriod(30, "《某某条例》第二十条"))
    assert window.end == START + timedelta(days=30) == window.minimum_end


def test_publication_is_late_after_7_working_days_counting_the_national_day_holiday() -> None:
    # State Council Office guidance (2018), APL art. 85: decided Tuesday 29 September 2026;
    # 1-7 October are holidays and Saturday 10 October a working day, so day 7 is 14 October
    decided = date(2026, 9, 29)
    on_time = datetime(2026, 10, 14, 23, 59, tzinfo=CHINA_TZ)
    assert late_publication(decided, on_time, CALENDAR) is None
    late = late_publication(decided, datetime(2026, 10, 15, 9, 0, tzinfo=CHINA_TZ), CALENDAR)
    assert late is not None
    assert late.deadline.last_day == date(2026, 10, 14)
    assert late.working_days == 8
    # counted by weekdays alone, 12 October would already be late; with the calendar it is not
    assert late_publication(decided, datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ), CALENDAR) is None


def test_withdrawal_of_a_revoked_decision_is_late_after_3_working_days() -> None:
    # APL art. 48 ("三日内", working days by art. 85): revoked Wednesday 30 September 2026,
    # the three working days are 8, 9 and 10 (a Saturday worked in lieu) October
    revoked = date(2026, 9, 30)
    assert late_withdrawal(revoked, datetime(2026, 10, 10, 18, 0, tzinfo=CHINA_TZ), CALENDAR) is None
    missed = late_withdrawal(revoked, datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ), CALENDAR)
    assert missed is not None and missed.last_day == date(2026, 10, 10)
