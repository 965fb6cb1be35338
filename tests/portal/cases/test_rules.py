"""The order of a case's steps (portal.cases.rules) and the shape of event data
(portal.cases.events): pure, on values, with the clock given by each step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.cases.deadlines import DeadlineKind
from portal.cases.events import ScheduledInstalment, current_stage, public_milestones, timeline_entries
from portal.errors import Conflict, PortalError, Unprocessable, ValidationFailed
from portal.evidence_hash import instant_text
from portal.legal_calendar import hearing_notice_limit
from tests.portal.case_history import CHINA, DECISION, NOTICE, History, china, notified


def refusal(history: History, kind: str, now: object, **data: object) -> PortalError:
    with pytest.raises(PortalError) as caught:
        history.add(kind, now, **data)  # type: ignore[arg-type]
    return caught.value


def test_nothing_is_recorded_after_closed() -> None:  # SECURITY.md 2.3.1: steps only in order
    history = History()
    history.add("closed", china(2026, 9, 2), reason="不予立案")
    for kind, data in (("filed", {}), ("penalty_notice", NOTICE), ("closed", {})):
        error = refusal(history, kind, china(2026, 9, 3), **data)
        assert isinstance(error, Conflict) and error.code == "case_closed"


def test_no_decision_without_prior_notice() -> None:  # APL art. 44, 62
    error = refusal(History(), "decided", china(2026, 9, 2), **DECISION)
    assert isinstance(error, Conflict) and error.code == "notice_required"


def test_no_decision_before_the_party_is_informed() -> None:  # APL art. 44, 45
    history = History()
    history.add("penalty_notice", china(2026, 9, 2), **NOTICE)  # not yet delivered
    assert refusal(history, "decided", china(2026, 9, 20), **DECISION).code == "party_not_informed"


def test_no_decision_while_the_statement_and_hearing_windows_run() -> None:
    # APL art. 45, 62, 64(1), 85: informed Tuesday 29 September 2026; with National Day the
    # 5 working days end on Monday 12 October, so a decision on 9 October is refused
    history = notified(china(2026, 9, 29))
    error = refusal(history, "decided", china(2026, 10, 9), **DECISION)
    assert isinstance(error, Conflict) and error.code == "rights_window_open"
    assert "2026年10月12日" in (error.detail or "")
    history.add("decided", china(2026, 10, 13), **DECISION)


def test_one_decision_and_nothing_of_the_procedure_after_it() -> None:  # APL art. 44
    history = notified(china(2026, 9, 1))
    history.add("decided", china(2026, 9, 15), **DECISION)
    for kind, data in (("decided", DECISION), ("penalty_notice", NOTICE), ("filed", {})):
        assert refusal(history, kind, china(2026, 9, 16), **data).code == "already_decided"


def test_filing_comes_first_and_once() -> None:
    history = History()
    history.add("filed", china(2026, 9, 2))
    assert refusal(history, "filed", china(2026, 9, 3)).code == "already_filed"
    late = notified(china(2026, 9, 2))
    assert refusal(late, "filed", china(2026, 9, 3)).code == "stage_out_of_order"


def test_hearing_notified_less_than_seven_working_days_ahead_is_refused() -> None:
    # APL art. 64(2), 85: 7 working days lie strictly between notice and hearing. For a hearing
    # on Monday 12 October 2026 they are 10 (a 调休 Saturday), 9, 8 October, 30, 29, 28 and
    # 24 September (1-7 October are National Day, 25-27 September Mid-Autumn): the latest
    # notice is on 23 September, not on 30 September as weekday counting would have it
    latest = hearing_notice_limit(date(2026, 10, 12), History().calendar).latest_notice_date
    assert latest == date(2026, 9, 23)
    history = notified(china(2026, 9, 1))
    hearing = {"hearing_date": "2026-10-12", "place": "福州市鼓楼区听证室", "public": True}
    too_late = china(latest.year, latest.month, latest.day) + timedelta(days=1, hours=-10)
    error = refusal(history, "hearing_scheduled", too_late, **hearing)
    assert isinstance(error, Unprocessable) and error.code == "hearing_notice_too_late"
    assert error.problem_extra == {"latest_notice_date": latest.isoformat(),
                                   "hearing_date": "2026-10-12"}
    in_time = china(latest.year, latest.month, latest.day, 23, 59)
    history.add("hearing_scheduled", in_time, **hearing)


def test_hearing_needs_the_hearing_right_and_a_notice() -> None:  # APL art. 63, 64
    hearing = {"hearing_date": "2026-12-01", "place": "听证室", "public": True}
    assert refusal(notified(china(2026, 9, 1), hearing_right=False), "hearing_scheduled",
                   china(2026, 9, 2), **hearing).code == "no_hearing_right"
    assert refusal(History(), "hearing_scheduled", china(2026, 9, 2),
                   **hearing).code == "notice_required"


def test_a_closed_hearing_names_its_reason() -> None:  # APL art. 64(5): public unless a reason
    error = refusal(notified(china(2026, 9, 1)), "hearing_scheduled", china(2026, 9, 2),
                    hearing_date="2026-12-01", place="听证室", public=False)
    assert isinstance(error, ValidationFailed) and error.errors == {"not_public_reason": "required"}


def test_decision_waits_for_a_scheduled_hearing() -> None:  # APL art. 64
    history = notified(china(2026, 9, 1))
    history.add("hearing_scheduled", china(2026, 9, 2), hearing_date="2026-11-02",
                place="听证室", public=True)
    assert refusal(history, "decided", china(2026, 10, 30), **DECISION).code == "hearing_pending"
    history.add("decided", china(2026, 11, 2, 16), **DECISION)


def test_remedies_follow_a_decision_and_must_end_before_closing() -> None:
    history = notified(china(2026, 9, 1))
    assert refusal(history, "reconsideration_started", china(2026, 9, 2)).code == "decision_required"
    history.add("decided", china(2026, 9, 15), **DECISION)
    assert refusal(history, "lawsuit_ended", china(2026, 9, 16)).code == "no_lawsuit"
    history.add("reconsideration_started", china(2026, 9, 20), body="福州市人民政府")
    assert refusal(history, "reconsideration_started", china(2026, 9, 21)).code == "reconsideration_pending"
    assert refusal(history, "closed", china(2026, 9, 22)).code == "remedy_pending"
    history.add("reconsideration_ended", china(2026, 10, 20), outcome="维持")
    history.add("closed", china(2026, 10, 21))


def test_events_are_recorded_in_the_order_they_happened() -> None:
    history = notified(china(2026, 9, 10))
    error = refusal(history, "decided", china(2026, 9, 30), occurred_at=instant_text(china(2026, 9, 5)),
                    **DECISION)
    assert isinstance(error, Unprocessable) and error.code == "occurred_out_of_order"


def test_extension_only_of_a_running_window_and_only_later() -> None:  # APL art. 66
    history = notified(china(2026, 9, 1))
    extension = {"deadline": "payment", "new_last_day": "2026-12-31", "reason": "经济困难"}
    assert refusal(history, "window_extended", china(2026, 9, 2),
                   **extension).code == "deadline_not_running"
    statement = history.deadline(DeadlineKind.STATEMENT)
    error = refusal(history, "window_extended", china(2026, 9, 2), deadline="statement",
                    new_last_day=statement.last_day.isoformat(), reason="当事人申请")
    assert error.code == "extension_not_later"
    history.add("window_extended", china(2026, 9, 2), deadline="statement",
                new_last_day="2026-09-30", reason="当事人申请")
    extended = history.deadline(DeadlineKind.STATEMENT)
    assert extended.statutory_last_day == statement.last_day and extended.last_day.isoformat() == "2026-09-30"
    assert "延长至2026年9月30日" in extended.explain() and statement.explain() in extended.explain()


@pytest.mark.parametrize(("kind", "data", "errors"), [
    ("promoted", {}, {"kind": "unknown_kind"}),
    ("registered", {}, {"kind": "unknown_kind"}),
    ("penalty_notice", {"facts": "x"}, {"proposed_penalty": "required", "legal_basis": "required"}),
    ("penalty_notice", {**NOTICE, "color": "red"}, {"color": "unknown_field"}),
    ("penalty_notice", {**NOTICE, "informed_at": "2026-09-01T10:00:00"}, {"informed_at": "invalid_instant"}),
    ("penalty_notice", {**NOTICE, "informed_at": "2027-09-01T10:00:00Z"}, {"informed_at": "in_future"}),
    ("penalty_notice", {**NOTICE, "proposed_fine_fen": 12.5}, {"proposed_fine_fen": "invalid_type"}),
    ("decided", {**DECISION, "fine_fen": True}, {"fine_fen": "invalid_type"}),
    ("hearing_scheduled", {"hearing_date": "2026-9-1", "place": "x", "public": "yes",
                           "hearing_time": "9:30"},
     {"hearing_date": "invalid_date", "public": "invalid_type", "hearing_time": "invalid_time"}),
    ("window_extended", {"deadline": "lawsuit", "new_last_day": "2026-12-01", "reason": "x"},
     {"deadline": "invalid_choice"}),
    ("instalments_approved", {"instalments": {"due_date": "2026-10-01"}}, {
        "instalments": "invalid_type", "reason": "required"}),
    ("instalments_approved", {"instalments": [{"due_date": "2026-10-01", "amount_fen": 1}],
                              "reason": "x"}, {"instalments": "out_of_range"}),
    ("instalments_approved", {"instalments": [{"due_date": "2026-10-01", "amount_fen": 1}] * 13,
                              "reason": "x"}, {"instalments": "out_of_range"}),
    ("instalments_approved", {"reason": "x", "instalments": [
        {"due_date": "2026-11-01", "amount_fen": 0},
        {"due_date": "2026-11-01", "amount_fen": 2.5},
        {"due_date": "2026-10-1", "amount_fen": True},
        "2026-12-01",
        {"amount_fen": 1, "note": "x"},
    ]}, {
        "instalments[0].amount_fen": "out_of_range",
        "instalments[1].due_date": "not_increasing", "instalments[1].amount_fen": "invalid_type",
        "instalments[2].due_date": "invalid_date", "instalments[2].amount_fen": "invalid_type",
        "instalments[3]": "invalid_type",
        "instalments[4].due_date": "required", "instalments[4].note": "unknown_field",
    }),
])
def test_event_data_errors_name_each_field(kind: str, data: dict[str, object],
                                           errors: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        History().add(kind, china(2026, 9, 2), **data)
    assert caught.value.errors == errors


def test_instants_are_stored_in_utc() -> None:  # LAW.md: instants in UTC, dates in China time
    event = notified(china(2026, 9, 1, 9, 30)).events[-1]
    assert event.data["informed_at"] == "2026-09-01T01:30:00.000000Z"
    assert event.instant("informed_at") == china(2026, 9, 1, 9, 30).astimezone(CHINA)


PLAN = {"reason": "经济困难", "instalments": [{"due_date": "2026-10-15", "amount_fen": 200_000},
                                              {"due_date": "2026-11-15", "amount_fen": 300_000}]}


def test_instalment_plan_follows_a_decision_with_a_fine_and_adds_up_to_it() -> None:  # APL art. 66
    history = notified(china(2026, 9, 1))
    error = refusal(history, "instalments_approved", china(2026, 9, 2), **PLAN)
    assert isinstance(error, Conflict) and error.code == "decision_required"
    history.add("decided", china(2026, 9, 15), **DECISION)  # fine_fen 500,000
    short = {**PLAN, "instalments": [PLAN["instalments"][0], {"due_date": "2026-11-15", "amount_fen": 1}]}
    error = refusal(history, "instalments_approved", china(2026, 9, 20), **short)
    assert isinstance(error, Unprocessable) and error.code == "instalments_total_mismatch"
    assert error.problem_extra == {"fine_fen": 500_000, "instalments_total_fen": 200_001}
    late = refusal(history, "instalments_approved", china(2026, 10, 16), **PLAN)
    assert isinstance(late, Unprocessable) and late.code == "instalment_before_approval"
    assert late.problem_extra == {"approved_on": "2026-10-16"}
    event = history.add("instalments_approved", china(2026, 10, 15, 9), **PLAN)
    assert event.data["instalments"] == PLAN["instalments"]
    # a change of the payment period, not a stage, and private: not a public milestone
    assert current_stage(history.events).value == "decided"
    assert [m.label for m in public_milestones(history.events)][-1] == "作出行政处罚决定"
    history.add("instalments_approved", china(2026, 10, 16), **{  # approved again: a changed plan
        **PLAN, "instalments": [{"due_date": "2026-10-20", "amount_fen": 250_000},
                                {"due_date": "2026-12-20", "amount_fen": 250_000}]})
    history.add("closed", china(2026, 10, 17))
    assert refusal(history, "instalments_approved", china(2026, 10, 18), **PLAN).code == "case_closed"


def test_no_instalment_plan_for_a_decision_without_a_fine() -> None:  # APL art. 66
    history = notified(china(2026, 9, 1))
    history.add("decided", china(2026, 9, 15), **{**DECISION, "penalty": "警告", "fine_fen": 0})
    error = refusal(history, "instalments_approved", china(2026, 9, 16), **PLAN)
    assert isinstance(error, Conflict) and error.code == "decision_without_fine"


def test_an_instalment_plan_reads_on_the_timeline_one_instalment_a_line() -> None:  # APL art. 66
    history = notified(china(2026, 9, 1))
    history.add("decided", china(2026, 9, 15), **DECISION)
    entry = timeline_entries([history.add("instalments_approved", china(2026, 9, 20), **PLAN)])[0]
    assert entry.label == "批准分期缴纳罚款"
    assert [(d.label, d.format) for d in entry.details] == [
        ("第1期", "instalment"), ("第2期", "instalment"), ("理由", "text")]
    assert entry.details[1].value == ScheduledInstalment(date(2026, 11, 15), 300_000)


def test_no_decision_heavier_than_the_notice_proposed() -> None:
    # APL art. 45 para. 2: the notice proposed 5,000 yuan; a decision of 50,000
    # yuan is refused with a stable code, the proposed amount or less is recorded
    history = notified(china(2026, 9, 1))
    heavier = {**DECISION, "penalty": "罚款人民币五万元", "fine_fen": 5_000_000}
    error = refusal(history, "decided", china(2026, 9, 15), **heavier)
    assert isinstance(error, Unprocessable) and error.code == "heavier_than_notice"
    assert error.problem_extra == {"proposed_fine_fen": 500_000, "fine_fen": 5_000_000, "notice_seq": 2}
    history.add("decided", china(2026, 9, 15), **{**DECISION, "fine_fen": 300_000})


def test_a_new_notice_after_the_statement_allows_the_heavier_decision() -> None:
    # APL art. 45 para. 2: new facts, a new prior notice proposing 50,000 yuan, new windows
    history = notified(china(2026, 9, 1))
    renewed = {**NOTICE, "proposed_penalty": "罚款人民币五万元", "proposed_fine_fen": 5_000_000}
    history.add("penalty_notice", china(2026, 9, 14), informed_at=instant_text(china(2026, 9, 14)),
                **renewed)
    heavier = {**DECISION, "penalty": "罚款人民币五万元", "fine_fen": 5_000_000}
    assert refusal(history, "decided", china(2026, 9, 18), **heavier).code == "rights_window_open"
    history.add("decided", china(2026, 9, 22), **heavier)


def test_no_decision_before_the_latest_day_a_fallback_window_could_end() -> None:
    # LAW.md "Counting days": informed 28 Dec 2026, 2027 not loaded; the fallback shows
    # 5 Jan, but an arrangement could make 4-6 Jan rest days, so the agency waits until 8 Jan
    history = notified(china(2026, 12, 28), registered=china(2026, 12, 1))
    error = refusal(history, "decided", china(2027, 1, 7), **DECISION)
    assert isinstance(error, Conflict) and error.code == "rights_window_open"
    assert error.problem_extra == {"window_open_until": "2027-01-08T16:00:00.000000Z"}
    history.add("decided", china(2027, 1, 9), **DECISION)
