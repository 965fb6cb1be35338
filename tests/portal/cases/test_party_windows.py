"""Each party's windows run from when that party was informed, and the decision waits for every
party unless it expressly waived (APL art. 45, 62, 64(1), 85; FJ art. 19: service is arrival).
Pure rules: ``cases.deadlines.PartyTimes`` and ``cases.rules.PartyStanding``."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.cases.deadlines import DeadlineKind, PartyTimes, case_deadlines, find
from portal.cases.events import StageEvent, parse_event_data
from portal.cases.rules import PartyStanding, check_event
from portal.errors import Conflict
from tests.portal.case_history import DECISION, History, china, notified


def decision_at(history: History, now: datetime) -> StageEvent:
    kind, payload = parse_event_data("decided", DECISION, now)
    return StageEvent.from_payload(len(history.events) + 1, kind.value, now, payload)


def test_a_portal_service_starts_the_window_and_says_so() -> None:
    # informed (per the agency) on Monday 2 November; served through the portal on Wednesday 4th
    history = notified(china(2026, 11, 2))
    served = PartyTimes(notice_served_at=china(2026, 11, 4, 15))
    statement = find(case_deadlines(history.events, hearing_right=True, calendar=history.calendar,
                                    times=served), DeadlineKind.STATEMENT)
    assert statement is not None and statement.last_day == date(2026, 11, 11)
    assert statement.explain().startswith("送达于 2026年11月4日；5个工作日")
    assert history.deadline(DeadlineKind.STATEMENT).last_day == date(2026, 11, 9)  # the event's own


def test_the_decision_waits_for_the_party_served_last() -> None:
    history = notified(china(2026, 11, 2))
    first, later = PartyStanding(), PartyStanding(PartyTimes(notice_served_at=china(2026, 11, 6)))
    decision = decision_at(history, china(2026, 11, 11, 9))
    check_event(decision, history.events, hearing_right=True, calendar=history.calendar,
                parties=[first])
    with pytest.raises(Conflict) as refused:
        check_event(decision, history.events, hearing_right=True, calendar=history.calendar,
                    parties=[first, later])
    assert refused.value.code == "rights_window_open"


def test_an_express_waiver_lets_the_agency_decide_before_the_window_ends() -> None:
    # APL art. 62: no decision while the window runs, unless the party expressly waived
    history = notified(china(2026, 11, 2))
    decision = decision_at(history, china(2026, 11, 4, 9))
    with pytest.raises(Conflict):
        check_event(decision, history.events, hearing_right=True, calendar=history.calendar,
                    parties=[PartyStanding()])
    check_event(decision, history.events, hearing_right=True, calendar=history.calendar,
                parties=[PartyStanding(waived=True)])


def test_a_requested_hearing_comes_before_the_decision() -> None:
    # APL art. 63, 64: a party asked for a hearing; the agency must schedule it first
    history = notified(china(2026, 11, 2))
    decision = decision_at(history, china(2026, 11, 20, 9))
    with pytest.raises(Conflict) as refused:
        check_event(decision, history.events, hearing_right=True, calendar=history.calendar,
                    parties=[PartyStanding(hearing_requested=True)])
    assert refused.value.code == "hearing_requested"


def test_an_extension_never_shortens_a_partys_own_later_period() -> None:
    history = notified(china(2026, 11, 2))
    history.add("window_extended", china(2026, 11, 5), deadline="statement",
                new_last_day="2026-11-12", reason="当事人申请")
    late = PartyTimes(notice_served_at=china(2026, 11, 9))  # own period ends 16 November
    statement = find(case_deadlines(history.events, hearing_right=True, calendar=history.calendar,
                                    times=late), DeadlineKind.STATEMENT)
    assert statement is not None and statement.last_day == date(2026, 11, 16)
    assert statement.extension is None
    assert history.deadline(DeadlineKind.STATEMENT).last_day == date(2026, 11, 12)
