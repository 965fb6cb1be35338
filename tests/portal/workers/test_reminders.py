"""Deadline reminders: two working days ahead by the legal calendar, once per deadline.

The dates sit around National Day 2026 (1–7 October off; Saturday 10 October a working day),
where counting weekdays would be wrong by a week (LAW.md, "Counting days").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from notifications import ContextRejected
from portal.database import transaction
from portal.legal_calendar import CHINA_TZ, HolidayCalendar, end_of_china_day_utc
from portal.services import reminders
from portal.workers.reminders import ReminderJob
from tests.conftest import Database
from tests.portal.workers.notification_factories import make_party, messages, renderer

CALENDAR = HolidayCalendar.standard()
FACTS = {"case_code": "FJ-FZ-2026-000123", "agency_name": "福州市市场监督管理局",
         "deadline_name": "陈述申辩期限"}


def china(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ).astimezone(UTC)


@pytest.mark.parametrize("last_day, today, due", [
    (date(2026, 10, 9), date(2026, 9, 29), False),  # 30 Sep, 8 and 9 Oct still to come: 3
    (date(2026, 10, 9), date(2026, 9, 30), True),   # 8 and 9 Oct: the holiday week is skipped
    (date(2026, 10, 9), date(2026, 10, 4), True),   # registered late: remind at once
    (date(2026, 10, 10), date(2026, 9, 30), False),  # the 调休 Saturday counts as a working day
    (date(2026, 10, 10), date(2026, 10, 8), True),
    (date(2026, 10, 9), date(2026, 10, 9), True),   # the last day itself
    (date(2026, 10, 9), date(2026, 10, 10), False),  # expired
])
def test_reminder_is_due_two_working_days_ahead(last_day: date, today: date, due: bool) -> None:
    assert reminders.reminder_due(end_of_china_day_utc(last_day), china(today), CALENDAR) is due


def test_weekday_counting_would_remind_a_week_late() -> None:
    ends = end_of_china_day_utc(date(2026, 10, 9))
    assert not reminders.reminder_due(ends, china(date(2026, 9, 30)), HolidayCalendar())
    assert reminders.reminder_due(ends, china(date(2026, 10, 7)), HolidayCalendar())


async def _register(database: Database, party: int, ends: datetime, subject: str = "case:1",
                    kind: str = "statement") -> None:
    async with transaction(database.sessions) as db:
        await reminders.register_deadline(db, party_id=party, kind=kind, subject_ref=subject,
                                          ends_at=ends, facts=FACTS, renderer=renderer(),
                                          now=china(date(2026, 9, 25)))


async def test_reminder_is_queued_once_per_deadline(database: Database) -> None:
    party = await make_party(database, email="zhang@example.com", mobile="13800138000")
    ends = end_of_china_day_utc(date(2026, 10, 9))
    await _register(database, party, ends)
    clock = {"now": china(date(2026, 9, 29))}
    job = ReminderJob(database.sessions, renderer(), CALENDAR, clock=lambda: clock["now"])

    assert await job.run_once() == 0  # three working days left
    clock["now"] = china(date(2026, 9, 30), hour=0)
    assert await job.run_once() == 1
    assert await job.run_once() == 0
    clock["now"] = china(date(2026, 10, 8))
    assert await job.run_once() == 0
    # Re-registering the unchanged deadline (a case service recomputing it) clears the
    # job's bookmark, but the outbox dedupe key still lets only one reminder through.
    await _register(database, party, ends)
    assert await job.run_once() == 0

    rows = await messages(database)
    assert sorted(row.channel for row in rows) == ["email", "inbox", "sms"]
    assert all(row.kind == "deadline_reminder" for row in rows)
    sms = next(row for row in rows if row.channel == "sms")
    assert sms.context == {"deadline_date": "2026-10-09"}
    assert len({row.dedupe_key.rsplit(":", 1)[0] for row in rows}) == 1


async def test_moved_deadline_gets_its_own_reminder_and_acted_one_none(database: Database) -> None:
    party = await make_party(database)
    await _register(database, party, end_of_china_day_utc(date(2026, 10, 9)))
    await _register(database, party, end_of_china_day_utc(date(2026, 10, 9)), subject="case:2")
    job = ReminderJob(database.sessions, renderer(), CALENDAR, clock=lambda: china(date(2026, 9, 30)))
    async with transaction(database.sessions) as db:
        assert await reminders.mark_acted(db, party_id=party, kind="statement", subject_ref="case:2",
                                          at=china(date(2026, 9, 29)))

    assert await job.run_once() == 1
    await _register(database, party, end_of_china_day_utc(date(2026, 10, 10)))  # extended
    job.clock = lambda: china(date(2026, 10, 8))
    assert await job.run_once() == 1

    rows = await messages(database)
    assert [row.context["deadline_date"] for row in rows] == ["2026-10-09", "2026-10-10"]


async def test_bad_facts_are_refused_when_the_deadline_is_registered(database: Database) -> None:
    party = await make_party(database)
    with pytest.raises(ContextRejected):
        async with transaction(database.sessions) as db:
            await reminders.register_deadline(
                db, party_id=party, kind="statement", subject_ref="case:1",
                ends_at=end_of_china_day_utc(date(2026, 10, 9)),
                facts={**FACTS, "case_code": "张三的案子"}, renderer=renderer())


def test_event_id_names_the_deadline_not_the_party() -> None:
    ends = end_of_china_day_utc(date(2026, 10, 9))
    event = reminders.reminder_event_id(7, "statement", "case:FJ-1", ends)
    assert event.startswith("reminder:") and "FJ-1" not in event
    assert event != reminders.reminder_event_id(7, "statement", "case:FJ-1", ends + timedelta(days=1))
