"""The reminder job: every few minutes, queue the deadline reminders that have become due.

It only writes outbox rows (the notification worker sends them), one transaction per
deadline, so a deadline whose facts the templates refuse is logged and skipped without
holding up the others. Running it twice, or in several processes at once, queues nothing
twice: the outbox dedupe key is unique (``portal.services.reminders``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import Renderer, TemplateError
from portal.database import transaction, utcnow
from portal.legal_calendar import HolidayCalendar
from portal.services import reminders
from portal.workers.notifications import Clock

log = logging.getLogger("portal.workers.reminders")


class ReminderJob:
    """Finds due deadlines and queues one reminder each."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        renderer: Renderer,
        calendar: HolidayCalendar,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.sessions = sessions
        self.renderer = renderer
        self.calendar = calendar
        self.clock = clock

    async def run_once(self) -> int:
        """Queue every reminder due now; return how many were queued."""
        now = self.clock()
        async with transaction(self.sessions) as db:
            due = await reminders.due_deadline_ids(db, now=now, calendar=self.calendar)
        queued = 0
        for deadline_id in due:
            try:
                async with transaction(self.sessions) as db:
                    queued += await reminders.send_reminder(
                        db, deadline_id, now=now, calendar=self.calendar, renderer=self.renderer)
            except TemplateError as exc:
                log.error("deadline reminder refused by its template", extra={
                    "job": "reminders", "object": f"deadline:{deadline_id}",
                    "reason": type(exc).__name__})
        if queued:
            log.info("deadline reminders queued", extra={"job": "reminders", "count": queued})
        return queued

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """``run_once`` every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                log.error("reminder job: database unavailable", extra={
                    "job": "reminders", "reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
