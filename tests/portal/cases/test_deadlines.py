"""Every deadline a case's events start (portal.cases.deadlines), counted with the legal
calendar across holidays and across a year without holiday data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.cases.deadlines import DeadlineKind
from portal.errors import Unprocessable
from portal.evidence_hash import instant_text
from portal.holiday_table import package_table, parse_calendar_file
from portal.legal_calendar import HolidayCalendar, end_of_china_day_utc
from tests.builders import TABLE_2027
from tests.portal.case_history import DECISION, History, china, notified


def test_statement_and_hearing_windows_skip_national_day() -> None:
    # APL art. 64(1), 85: informed Tuesday 29 September 2026, 5 working days are 30 September,
    # 8, 9, 10 (a 调休 Saturday) and 12 October
    history = notified(china(2026, 9, 29))
    for kind in (DeadlineKind.STATEMENT, DeadlineKind.HEARING_REQUEST):
        deadline = history.deadline(kind)
        assert deadline.last_day == date(2026, 10, 12) and deadline.party
        assert not deadline.fallback_years
    assert "告知于 2026年9月29日" in history.deadline(DeadlineKind.STATEMENT).explain()


def test_no_hearing_request_window_without_the_hearing_right() -> None:  # APL art. 63
    kinds = [d.kind for d in notified(china(2026, 9, 29), hearing_right=False).deadlines()]
    assert kinds == [DeadlineKind.STATEMENT]


def test_window_across_the_new_year_falls_back_to_fixed_holidays_and_says_so() -> None:
    # LAW.md "Counting days": no 2027 arrangement yet, so the fallback counts weekends and
    # 元旦 (1 January 2027, a Friday) as rest, visibly, and holds nothing late before the
    # latest day an arrangement could give; once the 2027 arrangement is loaded, one date
    assert 2027 not in package_table().years, "the package knows 2027 now: move this test on"
    informed = china(2026, 12, 28)
    fallback = notified(informed).deadline(DeadlineKind.STATEMENT)
    assert fallback.last_day == date(2027, 1, 5) and fallback.fallback_years == (2027,)
    assert "2027年放假调休安排尚未公布" in fallback.explain()
    assert fallback.uncertain and fallback.latest_ends_at_utc == end_of_china_day_utc(date(2027, 1, 8))
    assert fallback.may_be_met_by(china(2027, 1, 8, 23, 59)) and not fallback.is_met_by(china(2027, 1, 6))
    loaded = HolidayCalendar.standard(parse_calendar_file(TABLE_2027))
    known = notified(informed, calendar=loaded).deadline(DeadlineKind.STATEMENT)
    assert known.last_day == date(2027, 1, 5) and known.fallback_years == ()
    assert not known.uncertain and not known.may_be_met_by(china(2027, 1, 6))


def test_payment_and_remedies_run_from_service_of_the_decision() -> None:
    # APL art. 67 (15 days), Administrative Reconsideration Law art. 20 (60 days),
    # Administrative Procedure Law art. 46 (6 months); calendar days, a rest day at the end
    # moves to the next working day
    history = notified(china(2026, 7, 1))
    served = china(2026, 8, 3, 15)
    history.add("decided", served, occurred_at=instant_text(china(2026, 8, 3)),
                served_at=instant_text(served), **DECISION)
    by_kind = {d.kind: d for d in history.deadlines()}
    assert by_kind[DeadlineKind.PAYMENT].last_day == date(2026, 8, 18)
    assert by_kind[DeadlineKind.RECONSIDERATION].last_day == date(2026, 10, 8)  # 2 Oct: National Day
    assert "2026年10月2日为法定节假日或休息日，顺延至2026年10月8日" in by_kind[
        DeadlineKind.RECONSIDERATION].explain()
    assert by_kind[DeadlineKind.LAWSUIT].last_day == date(2027, 2, 3)
    assert by_kind[DeadlineKind.LAWSUIT].fallback_years == (2027,)
    assert DeadlineKind.DECISION_SERVICE not in by_kind


def test_no_payment_deadline_without_a_fine() -> None:
    history = notified(china(2026, 7, 1))
    served = china(2026, 8, 3, 15)
    history.add("decided", served, served_at=instant_text(served),
                **{**DECISION, "penalty": "警告", "fine_fen": 0})
    assert DeadlineKind.PAYMENT not in {d.kind for d in history.deadlines()}


def test_an_unserved_decision_binds_the_agency_to_serve_it() -> None:  # APL art. 61, 85
    history = notified(china(2026, 9, 1))
    history.add("decided", china(2026, 9, 29), **DECISION)
    service = history.deadline(DeadlineKind.DECISION_SERVICE)
    # 30 September, 8, 9, 10 (a 调休 Saturday), 12, 13 and 14 October
    assert not service.party and service.last_day == date(2026, 10, 14)


def test_a_renewed_notice_restarts_the_windows_without_old_extensions() -> None:
    history = notified(china(2026, 9, 1))
    history.add("window_extended", china(2026, 9, 2), deadline="statement",
                new_last_day="2026-09-30", reason="当事人申请")
    assert history.deadline(DeadlineKind.STATEMENT).extension is not None
    renewed = china(2026, 9, 10)
    history.add("penalty_notice", renewed, informed_at=instant_text(renewed),
                proposed_penalty="警告", facts="同上", legal_basis="同上")
    statement = history.deadline(DeadlineKind.STATEMENT)
    assert statement.extension is None and statement.last_day == date(2026, 9, 17)


def test_hearing_notice_limit_is_listed_for_the_agency() -> None:  # APL art. 64(2)
    history = notified(china(2026, 9, 1))
    history.add("hearing_scheduled", china(2026, 9, 2), hearing_date="2026-10-12",
                place="听证室", public=True)
    limit = history.deadline(DeadlineKind.HEARING_NOTICE)
    assert not limit.party and limit.last_day == date(2026, 9, 23)
    assert "听证定于 2026年10月12日" in limit.explain()


def test_history_without_notice_has_no_deadlines() -> None:
    assert History().deadlines() == []


def _served(history: History) -> History:
    served = china(2026, 8, 3, 15)
    history.add("decided", served, served_at=instant_text(served), **DECISION)  # due 18 August
    return history


def test_an_instalment_plan_sets_the_payment_deadline_and_names_each_instalment() -> None:
    # APL art. 66: the plan replaces the single due date; the party sees every instalment and
    # the one due next, and the statutory period beside it
    history = _served(notified(china(2026, 7, 1)))
    history.add("instalments_approved", china(2026, 8, 10), reason="经济困难", instalments=[
        {"due_date": "2026-08-18", "amount_fen": 200_000},
        {"due_date": "2026-09-18", "amount_fen": 300_000}])
    payment = history.deadline(DeadlineKind.PAYMENT)
    assert payment.plan is not None and payment.extension is None
    assert payment.statutory_last_day == date(2026, 8, 18) and payment.last_day == date(2026, 9, 18)
    assert "执法机关已批准分期缴纳（理由：经济困难），共2期" in payment.explain()
    assert "第1期于2026年8月18日 24:00前缴纳2,000.00元；第2期于2026年9月18日 24:00前缴纳3,000.00元" \
        in payment.explain()
    last_minute, next_day = (payment.plan.next_instalment(china(2026, 8, 18, 23, 59)),
                             payment.plan.next_instalment(china(2026, 8, 19, 0, 0)))
    assert last_minute is not None and last_minute[0] == 1
    assert next_day is not None and next_day[0] == 2
    assert payment.plan.next_instalment(china(2026, 9, 19)) is None


def test_the_latest_of_a_deferral_and_an_instalment_plan_applies() -> None:  # APL art. 66
    history = _served(notified(china(2026, 7, 1)))
    plan = [{"due_date": "2026-08-18", "amount_fen": 250_000},
            {"due_date": "2026-09-18", "amount_fen": 250_000}]
    history.add("instalments_approved", china(2026, 8, 10), reason="经济困难", instalments=plan)
    # a deferral must end after the plan's last instalment, and then replaces the plan
    with pytest.raises(Unprocessable) as caught:
        history.add("window_extended", china(2026, 8, 11), deadline="payment",
                    new_last_day="2026-09-18", reason="改为暂缓")
    assert caught.value.problem_extra == {"current_last_day": "2026-09-18"}
    history.add("window_extended", china(2026, 8, 11), deadline="payment",
                new_last_day=(date(2026, 9, 18) + timedelta(days=1)).isoformat(), reason="改为暂缓")
    deferred = history.deadline(DeadlineKind.PAYMENT)
    assert deferred.plan is None and deferred.last_day == date(2026, 9, 19)
    history.add("instalments_approved", china(2026, 8, 12), reason="再次分期", instalments=plan)
    again = history.deadline(DeadlineKind.PAYMENT)
    assert again.extension is None and again.plan is not None and again.last_day == date(2026, 9, 18)
    # the plan is the payment period's: the remedy periods do not move
    assert history.deadline(DeadlineKind.RECONSIDERATION).plan is None
