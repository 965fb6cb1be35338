"""我的待办 as values: what needs a party's attention, and in which order.

What comes in (``services.todo`` gathers it): fines to pay with today's amount, rights whose
window is running and not yet used, documents served but not yet opened, agencies' answers to
what the party filed, unread notices. Each item carries the page where its task is done, so
every one is a single tap from the task.

Most urgent first:

1. anything whose last day has passed and still costs money (an overdue fine: the surcharge
   grows every day, APL art. 72);
2. then everything with a last day, the earliest first (a fine, a right's window, and an
   unopened document by the earliest period it started that still runs); on the same day a
   fine before a right before a document;
3. then what has no last day: answers, then notices, the newest first.

``Countdown`` says how much time is left the way people count it at a counter: working days
from today (today included while it is a working day) to the last day, and the last day's
weekday. The periods themselves are counted by ``legal_calendar``; this only reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from portal.legal_calendar import HolidayCalendar

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class TodoKind(StrEnum):
    FINE = "fine"
    RIGHT = "right"
    DOCUMENT = "document"
    ANSWER = "answer"
    NOTICE = "notice"


_SAME_DAY_ORDER = {TodoKind.FINE: 0, TodoKind.RIGHT: 1, TodoKind.DOCUMENT: 2, TodoKind.ANSWER: 3,
                   TodoKind.NOTICE: 4}


@dataclass(frozen=True)
class Countdown:
    """The last day of something and how much time is left on ``today`` (China dates)."""

    last_day: date
    today: date
    working_days_left: int
    """Working days from today (counted while it is one) up to and including the last day."""
    guessed: bool = False
    """The holiday arrangement of some year in between is not published: a weekday count."""

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.last_day.weekday()]

    @property
    def overdue(self) -> bool:
        return self.last_day < self.today

    @property
    def due_today(self) -> bool:
        return self.last_day == self.today


def countdown(last_day: date, today: date, calendar: HolidayCalendar) -> Countdown:
    left = (calendar.working_days_between(today - timedelta(days=1), last_day)
            if last_day >= today else 0)
    return Countdown(last_day, today, left,
                     guessed=bool(calendar.unknown_years(min(today, last_day), last_day)))


@dataclass(frozen=True)
class TodoItem:
    """One thing to do. ``href`` is the page of the task; ``subject`` names what it is about
    (a decision number, a document title, a notice title); the page words the rest."""

    kind: TodoKind
    href: str
    subject: str
    agency: str | None = None
    due: Countdown | None = None
    amount_fen: int | None = None
    """A fine: what to pay today (or the next instalment, when paying ahead)."""
    at: datetime | None = None
    """When it arrived: a document's service, an answer's time, a notice's."""
    detail: str | None = None
    """The right's kind (``SubmissionKind`` value), the document's type, the answer's kind."""
    notice_id: int | None = None


def _key(item: TodoItem) -> tuple[int, int, int, float]:
    arrived = -item.at.timestamp() if item.at is not None else 0.0
    if item.due is not None:
        overdue_money = item.kind is TodoKind.FINE and item.due.overdue
        return (0 if overdue_money else 1, item.due.last_day.toordinal(),
                _SAME_DAY_ORDER[item.kind], arrived)
    return (2, _SAME_DAY_ORDER[item.kind], 0, arrived)


def ordered(items: Iterable[TodoItem]) -> list[TodoItem]:
    """``items`` most urgent first (module docstring)."""
    return sorted(items, key=_key)
