"""我的待办's values: how much time is left, counted the way people count at a counter (working days
from today, the last day's weekday), and the order: money that grows every day first, then the
earliest last day, then what has none. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.legal_calendar import HolidayCalendar
from portal.todo import TodoItem, TodoKind, countdown, ordered

CALENDAR = HolidayCalendar.standard()


def test_working_days_left_skip_the_national_day_week_and_name_the_weekday() -> None:
    # APL art. 85: Mid-Autumn (25-27 Sep) and National Day (1-7 Oct) 2026 are not working days
    left = countdown(date(2026, 10, 9), date(2026, 9, 28), CALENDAR)
    assert left.working_days_left == 5  # 28, 29, 30 Sep, 8, 9 Oct
    assert left.weekday == "星期五" and not left.overdue and not left.due_today and not left.guessed
    last = countdown(date(2026, 10, 9), date(2026, 10, 9), CALENDAR)
    assert last.due_today and last.working_days_left == 1
    assert countdown(date(2026, 10, 9), date(2026, 10, 10), CALENDAR).overdue
    # a Saturday made a working day (调休) counts; an ordinary Sunday does not
    assert countdown(date(2026, 10, 12), date(2026, 10, 10), CALENDAR).working_days_left == 2


def test_a_year_without_a_published_arrangement_is_flagged_as_a_guess() -> None:
    # LAW.md "Counting days": a weekday count for an unknown year says so wherever it is shown
    assert countdown(date(2031, 1, 10), date(2031, 1, 6), CALENDAR).guessed


def _item(kind: TodoKind, name: str, last_day: date | None = None, today: date = date(2026, 12, 7),
          at: datetime | None = None) -> TodoItem:
    due = countdown(last_day, today, CALENDAR) if last_day else None
    return TodoItem(kind, f"/{name}", name, due=due, at=at)


def test_overdue_money_first_then_the_earliest_last_day_then_the_newest_news() -> None:
    items = [
        _item(TodoKind.NOTICE, "old-notice", at=datetime(2026, 12, 1, tzinfo=UTC)),
        _item(TodoKind.RIGHT, "statement", date(2026, 12, 10)),
        _item(TodoKind.DOCUMENT, "document", date(2026, 12, 10)),
        _item(TodoKind.FINE, "fine-later", date(2026, 12, 21)),
        _item(TodoKind.NOTICE, "new-notice", at=datetime(2026, 12, 6, tzinfo=UTC)),
        _item(TodoKind.ANSWER, "answer", at=datetime(2026, 12, 2, tzinfo=UTC)),
        _item(TodoKind.FINE, "fine-same-day", date(2026, 12, 10)),
        _item(TodoKind.FINE, "fine-overdue", date(2026, 11, 12)),
    ]
    assert [item.subject for item in ordered(items)] == [
        "fine-overdue", "fine-same-day", "statement", "document", "fine-later",
        "answer", "new-notice", "old-notice"]
