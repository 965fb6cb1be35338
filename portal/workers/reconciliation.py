"""The daily reconciliation: every morning, yesterday's statement of each payment platform
against the payments the portal recorded.

A platform's statement of a China date is complete a little after that midnight. From
``RECONCILE_HOUR`` (02:00 China time by default) the worker reconciles the previous day for
every configured platform, the way ``portal payments reconcile`` does
(`services.reconciliations.reconcile_day`: the run is stored and the agency API serves it).
Every day, weekends and holidays included: parties pay on those days too. Differences are
logged as a warning with their count only: the report names payment codes and amounts, which
stay in the database.

Once a day, however many workers run: each round of the job loop enqueues the day's job under
the unique dedupe key ``reconciliation:<date>`` (a second insert does nothing), and the job is
claimed like any other, ``FOR UPDATE SKIP LOCKED``. A platform that is down postpones the job
(back-off, ``services.jobs.POLICY``); a platform whose day was already reconciled after the
hour (by an earlier attempt that stopped half-way, or by an operator) is not fetched again.
Before the hour nothing happens: a worker started at 01:00 does yesterday's work at 02:00.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments import PaymentPlatform, PlatformError
from portal.errors import ConfigurationError
from portal.legal_calendar import CHINA_TZ, china_date
from portal.outbound import tls_context
from portal.payment_platforms import PaymentPlatforms
from portal.services import jobs, reconciliations
from portal.settings import Settings
from portal.workers.jobs import DueJob, JobKinds

log = logging.getLogger("portal.workers.reconciliation")
JOB = "reconciliation"
STATEMENT_TIMEOUT = 30.0  # seconds, as the CLI allows: a statement can be long

OpenPlatforms = Callable[[], AbstractAsyncContextManager[Mapping[str, PaymentPlatform]]]


@dataclass(frozen=True)
class ReconciliationDeps:
    sessions: async_sessionmaker[AsyncSession]
    platforms: OpenPlatforms
    """The configured platforms by name, open for the length of one job."""
    hour: int = 2
    """China time from which the previous day is reconciled."""


@asynccontextmanager
async def configured_platforms(settings: Settings) -> AsyncIterator[Mapping[str, PaymentPlatform]]:
    """The platforms whose callbacks the portal accepts, over one HTTP client closed after.

    Built when the job runs rather than when the worker starts: the sandbox platform's key
    appears only once the web app has run, and a platform's settings error should postpone
    the job, not stop the worker."""
    async with httpx.AsyncClient(timeout=STATEMENT_TIMEOUT, verify=tls_context()) as http:
        yield PaymentPlatforms.from_settings(settings, http=lambda: http).adapters


def deps_for(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> ReconciliationDeps:
    """The deps from settings (``portal worker``, ``portal run``)."""
    return ReconciliationDeps(sessions, partial(configured_platforms, settings),
                              settings.payments.reconcile_hour)


def due_at(day: date, hour: int) -> datetime:
    """When ``day`` may be reconciled: ``hour`` o'clock China time on the next day, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(hour), CHINA_TZ).astimezone(UTC)


def due_day(now: datetime, hour: int) -> date | None:
    """The day to reconcile at ``now``: yesterday (China dates) once ``hour`` has come, else none."""
    yesterday = china_date(now) - timedelta(days=1)
    return yesterday if now >= due_at(yesterday, hour) else None


async def schedule(db: AsyncSession, deps: ReconciliationDeps, now: datetime) -> None:
    """Enqueue the job of the day due at ``now``, unless it exists (its dedupe key is unique)."""
    day = due_day(now, deps.hour)
    if day is not None:
        await jobs.enqueue(db, JOB, day.toordinal(), dedupe_key=f"{JOB}:{day.isoformat()}",
                           not_before=due_at(day, deps.hour))


async def reconcile(deps: ReconciliationDeps, job: DueJob) -> None:
    """Reconcile the job's day (its subject is the date's ordinal) on every platform not yet done."""
    day = date.fromordinal(job.subject_id)
    async with deps.platforms() as platforms:
        for platform in platforms.values():
            async with deps.sessions() as db:
                if await reconciliations.reconciled_since(db, platform.name, day, due_at(day, deps.hour)):
                    continue
            row = await reconciliations.reconcile_day(deps.sessions, platform, day)
            where = f"{platform.name}:{day.isoformat()}"
            if row.clean:
                log.info("payments reconciled", extra={"job": JOB, "object": where, "count": row.matched})
            else:
                log.warning("payment reconciliation found differences", extra={
                    "job": JOB, "object": where, "count": reconciliations.differences(row)})


JOBS = JobKinds[ReconciliationDeps](
    "reconciliation",
    {JOB: reconcile},
    retry_on=(PlatformError, ConfigurationError),
    schedule=schedule,
)
"""Run by ``portal worker`` and ``portal run`` (``workers.runner``); a platform that cannot be
reached or trusted, or one not configured yet, postpones the day's job."""
