"""``portal.cases.rights`` on values: what each right's form must say, and when each may be exercised
(LAW.md, "Rights before a decision"), with histories built in memory (``case_history``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.cases.deadlines import DeadlineKind
from portal.cases.rights import Officer, RightsState, SubmissionKind, parse_form, refusal
from portal.errors import ValidationFailed
from tests.portal.case_history import DECISION, History, china, notified

OFFICERS = (Officer(7, "陈明", "35010020230017"), Officer(8, "林芳", "35010020230024"))
TODAY = date(2026, 11, 23)


def state(history: History, *filed: SubmissionKind) -> RightsState:
    return RightsState.of(history.events, history.deadlines(), hearing_right=history.hearing_right,
                          filed=frozenset(filed))


def code_of(kind: SubmissionKind, current: RightsState, now: datetime) -> str | None:
    why = refusal(kind, current, now)
    return why.code if why else None


def parse(kind: SubmissionKind, **fields: str) -> dict[str, object]:
    return parse_form(kind, fields, officers=OFFICERS, hearing_right=True, today=TODAY)


def test_statement_text_is_required_trimmed_and_limited() -> None:
    assert parse(SubmissionKind.STATEMENT, text="  第一行\r\n第二行  ") == {"text": "第一行\n第二行"}
    for text, code in (("", "required"), ("字" * 5001, "too_long"), ("隐藏\x1b[8m", "invalid_character")):
        with pytest.raises(ValidationFailed) as refused:
            parse(SubmissionKind.STATEMENT, text=text)
        assert refused.value.errors == {"text": code}


def test_recusal_names_an_officer_of_the_case_or_the_hearing_officer_and_why() -> None:
    # APL art. 43, 64(4)
    assert parse(SubmissionKind.RECUSAL, target="officer:8", reason="系当事人近亲属") == {
        "target": "officer", "name": "林芳", "credential_number": "35010020230024",
        "reason": "系当事人近亲属"}
    assert parse(SubmissionKind.RECUSAL, target="hearing_officer", target_name="王主持",
                 reason="曾参与调查")["name"] == "王主持"
    with pytest.raises(ValidationFailed) as refused:
        parse(SubmissionKind.RECUSAL, target="officer:99", reason="")
    assert refused.value.errors == {"target": "required", "reason": "required"}
    with pytest.raises(ValidationFailed) as refused:
        parse(SubmissionKind.RECUSAL, target="hearing_officer", reason="曾参与调查")
    assert refused.value.errors == {"target_name": "required"}


def test_payment_plan_needs_hardship_and_a_plan_within_limits() -> None:
    # APL art. 66: deferral or instalments, for financial hardship
    deferred = parse(SubmissionKind.PAYMENT_PLAN, plan="defer", defer_until="2027-03-31",
                     reasons="经营困难")
    assert deferred["defer_until"] == "2027-03-31" and deferred["plan"] == "defer"
    assert parse(SubmissionKind.PAYMENT_PLAN, plan="instalments", instalments="6",
                 reasons="经营困难")["instalments"] == 6
    bad = {"plan": "defer", "defer_until": TODAY.isoformat(), "reasons": ""}
    with pytest.raises(ValidationFailed) as refused:
        parse(SubmissionKind.PAYMENT_PLAN, **bad)
    assert refused.value.errors == {"defer_until": "out_of_range", "reasons": "required"}
    with pytest.raises(ValidationFailed) as refused:
        parse(SubmissionKind.PAYMENT_PLAN, plan="instalments", instalments="13", reasons="困难")
    assert refused.value.errors == {"instalments": "out_of_range"}


def test_a_waiver_needs_both_confirmations() -> None:
    # APL art. 62: the waiver must be express; the portal asks twice
    assert parse(SubmissionKind.WAIVER, confirm="yes", confirmed_again="yes")["waived"] == [
        "statement", "hearing_request"]
    with pytest.raises(ValidationFailed) as refused:
        parse(SubmissionKind.WAIVER, confirm="yes")
    assert refused.value.errors == {"confirmed_again": "required"}


def test_hearing_request_window_ends_at_24_00_china_time_of_the_fifth_working_day() -> None:
    # APL art. 64(1), 85: informed Monday 2 November 2026, 5 working days: Monday 9 November
    history = notified(china(2026, 11, 2))
    current = state(history)
    assert refusal(SubmissionKind.HEARING_REQUEST, current, china(2026, 11, 9, 23, 59)) is None
    late = refusal(SubmissionKind.HEARING_REQUEST, current, china(2026, 11, 10, 0, 0))
    assert late is not None and late.code == "hearing_window_closed"
    assert late.deadline is not None and late.deadline.last_day == date(2026, 11, 9)
    assert "截止 2026年11月9日 24:00" in late.deadline.explain()


def test_hearing_request_needs_the_hearing_right_and_is_made_once() -> None:
    # APL art. 63: only where the case carries the hearing right
    now = china(2026, 11, 3)
    without = state(notified(china(2026, 11, 2), hearing_right=False))
    assert code_of(SubmissionKind.HEARING_REQUEST, without, now) == "no_hearing_right"
    again = state(notified(china(2026, 11, 2)), SubmissionKind.HEARING_REQUEST)
    assert code_of(SubmissionKind.HEARING_REQUEST, again, now) == "hearing_already_requested"
    assert refusal(SubmissionKind.STATEMENT, again, now) is None


def test_after_a_waiver_no_statement_and_no_hearing_request() -> None:
    waived = state(notified(china(2026, 11, 2)), SubmissionKind.WAIVER)
    for kind in (SubmissionKind.STATEMENT, SubmissionKind.HEARING_REQUEST, SubmissionKind.WAIVER):
        assert code_of(kind, waived, china(2026, 11, 3)) == "rights_waived"


def test_payment_plan_only_after_a_decision_with_a_fine_and_recusal_only_before() -> None:
    history = notified(china(2026, 11, 2))
    assert code_of(SubmissionKind.PAYMENT_PLAN, state(history), china(2026, 11, 3)) == "decision_required"
    assert refusal(SubmissionKind.RECUSAL, state(history), china(2026, 11, 3)) is None
    history.add("decided", china(2026, 11, 12), **DECISION)
    decided = state(history)
    assert refusal(SubmissionKind.PAYMENT_PLAN, decided, china(2026, 11, 13)) is None
    assert code_of(SubmissionKind.RECUSAL, decided, china(2026, 11, 13)) == "already_decided"
    assert code_of(SubmissionKind.STATEMENT, decided, china(2026, 11, 13)) == "already_decided"


def test_an_extension_keeps_the_statement_window_open_until_the_new_day() -> None:
    # window_extended: the party may still state until the agency's new last day
    history = notified(china(2026, 11, 2))
    history.add("window_extended", china(2026, 11, 5), deadline="statement",
                new_last_day="2026-11-20", reason="当事人申请收集证据")
    current = state(history)
    window = current.window(DeadlineKind.STATEMENT)
    assert window is not None and window.statutory_last_day == date(2026, 11, 9)
    assert window.last_day == date(2026, 11, 20)
    assert refusal(SubmissionKind.STATEMENT, current, china(2026, 11, 20, 23, 59)) is None
    assert code_of(SubmissionKind.HEARING_REQUEST, current, china(2026, 11, 10)) == "hearing_window_closed"
    assert window.ends_at_utc - timedelta(minutes=1) < china(2026, 11, 21)


def test_an_act_after_the_fallback_date_is_not_refused_as_late() -> None:
    # LAW.md "Counting days" (APL art. 64(1), 85): informed 28 Dec 2026, 2027 not
    # loaded. The fallback shows 5 Jan 2027, but 4-6 Jan may yet be bridge days: a request on
    # 6 Jan is accepted (to be flagged for the agency), one after 8 Jan is refused
    current = state(notified(china(2026, 12, 28)))
    window = current.window(DeadlineKind.HEARING_REQUEST)
    assert window is not None and window.last_day == date(2027, 1, 5) and window.uncertain
    assert refusal(SubmissionKind.HEARING_REQUEST, current, china(2027, 1, 5, 23, 59)) is None
    assert refusal(SubmissionKind.HEARING_REQUEST, current, china(2027, 1, 6, 10)) is None
    assert refusal(SubmissionKind.STATEMENT, current, china(2027, 1, 8, 23, 59)) is None
    late = code_of(SubmissionKind.HEARING_REQUEST, current, china(2027, 1, 9, 0, 0))
    assert late == "hearing_window_closed"
