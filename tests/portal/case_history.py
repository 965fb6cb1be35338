"""A case's history built in memory, event by event, through the same parsing and order rules
the service applies (``cases.events.parse_event_data``, ``cases.rules.check_event``), with the
clock given by each step: the rule tests need no database and no waiting."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.cases.deadlines import CaseDeadline, DeadlineKind, case_deadlines, find
from portal.cases.events import StageEvent, parse_event_data
from portal.cases.rules import check_event
from portal.evidence_hash import instant_text
from portal.legal_calendar import HolidayCalendar

CHINA = ZoneInfo("Asia/Shanghai")


def china(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


class History:
    def __init__(self, *, hearing_right: bool = True, calendar: HolidayCalendar | None = None,
                 registered: datetime | None = None) -> None:
        self.hearing_right = hearing_right
        self.calendar = calendar or HolidayCalendar.standard()
        registered = registered or china(2026, 9, 1)
        self.events = [StageEvent.from_payload(1, "registered", registered,
                                               {"occurred_at": instant_text(registered)})]

    def add(self, kind: str, now: datetime, **data: Any) -> StageEvent:
        """Record ``kind`` at ``now`` (its ``occurred_at`` unless ``data`` says otherwise)."""
        event_kind, payload = parse_event_data(kind, data, now)
        event = StageEvent.from_payload(len(self.events) + 1, event_kind.value, now, payload)
        check_event(event, self.events, hearing_right=self.hearing_right, calendar=self.calendar)
        self.events.append(event)
        return event

    def deadlines(self) -> list[CaseDeadline]:
        return case_deadlines(self.events, hearing_right=self.hearing_right, calendar=self.calendar)

    def deadline(self, kind: DeadlineKind) -> CaseDeadline:
        found = find(self.deadlines(), kind)
        assert found is not None, f"no {kind} deadline"
        return found


NOTICE = {"proposed_penalty": "罚款人民币五千元", "proposed_fine_fen": 500_000,
          "facts": "未按规定公示年度报告", "legal_basis": "《企业信息公示暂行条例》第十八条"}
DECISION = {"decision_number": "榕市监罚字〔2026〕1号", "penalty": "罚款人民币五千元",
            "fine_fen": 500_000}


def notified(informed: datetime, **options: Any) -> History:
    """A case whose prior notice reached the party at ``informed``."""
    history = History(**options)
    history.add("penalty_notice", informed, informed_at=instant_text(informed), **NOTICE)
    return history
