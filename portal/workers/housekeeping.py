"""The housekeeping job: ``services.housekeeping.prune`` every ``INTERVAL_SECONDS`` in every
``portal worker`` (and in ``portal run``'s background). Deleting what expired is idempotent,
so several workers side by side only repeat each other's no-op."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.database import transaction, utcnow
from portal.services import housekeeping
from portal.settings import Settings
from portal.workers.notifications import Clock

log = logging.getLogger("portal.workers.housekeeping")


class HousekeepingJob:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *,
                 clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(hours=settings.session_absolute_hours)
        self.clock = clock

    async def run_once(self) -> housekeeping.Pruned:
        async with transaction(self.sessions) as db:
            pruned = await housekeeping.prune(db, now=self.clock(), idle=self.idle, absolute=self.absolute)
        if pruned.total:
            log.info("expired rows pruned", extra={"job": "housekeeping", "count": pruned.total})
        return pruned

    async def run(self, stop: asyncio.Event, interval: float = housekeeping.INTERVAL_SECONDS) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                log.error("housekeeping: database unavailable", extra={
                    "job": "housekeeping", "reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
