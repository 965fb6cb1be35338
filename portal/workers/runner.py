"""Starting and stopping the background jobs: ``portal worker`` and the background of ``portal run``.

``portal worker`` is the production shape: any number of these processes side by side on
PostgreSQL, each with ``--concurrency`` notification loops (each loop has at most one message
in flight) and the reminder job. SQLite has one writer at a time, so there one loop is all
that helps. SIGTERM or SIGINT asks every loop to stop after the message it is sending; the
rest of its batch is released for others, and the process exits 0.

``--once`` runs the reminder job once, drains what is due now and exits: for cron-style
deployments and for tests.

The housekeeping job prunes what anonymous requests left behind (expired sessions, old
refused callbacks and rate-limit windows; ``services.housekeeping``).

The follow-up jobs (e-service, payments, submissions, the daily reconciliation, the evidence
checkpoint every ten minutes) each run in a
loop of their own (``workers.jobs``): an outside system that is slow to answer (an agency's
webhook endpoint, a payment platform) holds up only its own worker's jobs. The payment jobs
run in one loop per receipt rendering process (``RECEIPT_PROCESSES``,
``workers.receipt_documents``), each loop claiming one job at a time, so a backlog of
receipts keeps every process busy.

``portal run`` (``make run``) runs one loop inside the web app's lifespan, so a newcomer sees
notifications (in the sandbox files and the bell) without starting a second command.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from notifications import RateLimit, RateLimits, RetryPolicy
from portal import metrics
from portal.blobstore import open_blob_store
from portal.catalogue.regulations import regulation
from portal.database import session_factory, transaction, utcnow
from portal.engines import open_engine
from portal.legal_calendar import HolidayCalendar
from portal.notary import Notary
from portal.services import outbox
from portal.settings import NotificationSettings, Settings
from portal.workers import eservice, evidence, payments, reconciliation, submissions
from portal.workers.channels import open_channels
from portal.workers.housekeeping import HousekeepingJob
from portal.workers.notifications import Clock, NotificationWorker, WorkerOptions, new_worker_id
from portal.workers.receipt_documents import ReceiptPool
from portal.workers.reminders import ReminderJob

log = logging.getLogger("portal.workers.runner")


def worker_options(config: NotificationSettings) -> WorkerOptions:
    """The worker's tuning, from settings."""
    return WorkerOptions(
        batch_size=config.batch_size,
        lease=timedelta(seconds=config.lease_seconds),
        send_timeout=timedelta(seconds=config.send_timeout_seconds),
        poll_interval=config.poll_seconds,
        policy=RetryPolicy(
            base=timedelta(seconds=config.retry_base_seconds),
            cap=max(timedelta(hours=6), timedelta(seconds=config.retry_base_seconds)),
            max_attempts=config.max_attempts,
        ),
        limits=RateLimits(
            per_party=RateLimit(config.party_limit_per_hour, timedelta(hours=1)),
            overall=RateLimit(config.global_limit_per_minute, timedelta(minutes=1)),
        ),
    )


async def run_workers(
    settings: Settings,
    *,
    once: bool,
    concurrency: int = 1,
    stop: asyncio.Event | None = None,
    clock: Clock = utcnow,
) -> int:
    """Run the notification loops, the reminder job, the e-service jobs (arrival
    timestamps, service receipts), the payment jobs (fiscal e-receipts), the submission
    jobs (receipts, agency webhooks) and the daily reconciliation; return the messages
    attempted (``once``) or 0 once ``stop`` is set."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if settings.is_sqlite and concurrency > 1:
        log.warning("SQLite has one writer at a time: running one notification loop",
                    extra={"job": "notifications", "count": concurrency})
        concurrency = 1
    engine = open_engine(settings, **_worker_engine_options(settings))
    metrics.watch_pool(engine, "worker")
    sessions = session_factory(engine)
    renderer = outbox.renderer_for(settings.public_url)
    notary = Notary.from_settings(settings)
    blobs = open_blob_store(settings.blobs, engine)
    deps = eservice.EserviceDeps(sessions, notary, blobs, regulation(settings.service_desk.province))
    submission_deps = submissions.SubmissionDeps(sessions, notary, deps.blobs, settings.secret_key,
                                                    development=settings.development)
    receipt_processes = settings.payments.receipt_processes
    pool = ReceiptPool(settings, receipt_processes) if receipt_processes else None
    payment_deps = payments.deps_for(settings, sessions, notary, deps.blobs, pool)
    payment_loops = max(1, receipt_processes)  # one receipt in the making per process
    reconciliation_deps = reconciliation.deps_for(settings, sessions)
    evidence_deps = evidence.deps_for(settings, sessions, notary)
    options = worker_options(settings.notifications)
    stop = stop or asyncio.Event()
    try:
        async with open_channels(settings, sessions, clock) as channels:
            workers = [
                NotificationWorker(sessions, channels, renderer, worker_id=new_worker_id(n),
                                   options=options, clock=clock)
                for n in range(concurrency)
            ]
            job = ReminderJob(sessions, renderer, HolidayCalendar.standard(), clock=clock)
            tidy = HousekeepingJob(sessions, settings, clock=clock)
            if once:
                await job.run_once()
                await tidy.run_once()
                await eservice.JOBS.drain(deps)
                await submissions.JOBS.drain(submission_deps)
                await asyncio.gather(*(payments.JOBS.drain(payment_deps, limit=1)
                                       for _ in range(payment_loops)))
                await reconciliation.JOBS.drain(reconciliation_deps)
                await evidence.JOBS.drain(evidence_deps)
                return sum(await asyncio.gather(*(worker.drain(stop) for worker in workers)))
            await asyncio.gather(
                *(worker.run(stop) for worker in workers),
                job.run(stop, settings.notifications.reminder_interval_seconds),
                tidy.run(stop),
                eservice.JOBS.run(deps, stop),
                submissions.JOBS.run(submission_deps, stop),
                *(payments.JOBS.run(payment_deps, stop, limit=1) for _ in range(payment_loops)),
                # once a day: a round a minute is enough to start soon after the hour
                reconciliation.JOBS.run(reconciliation_deps, stop, poll_seconds=60),
                evidence.JOBS.run(evidence_deps, stop, poll_seconds=min(60, evidence_deps.interval)),
            )
            return 0
    finally:
        if pool is not None:
            await asyncio.to_thread(pool.close)
        await notary.aclose()
        await blobs.aclose()
        await engine.dispose()


def _worker_engine_options(settings: Settings) -> dict[str, Any]:
    """On PostgreSQL the workers' own commits (claims, results, notices, reminders) do not wait
    for the disk flush: a PostgreSQL crash may forget their last fraction of a second, and
    the messages concerned are sent again, the same at-least-once as a worker crash. The
    outbox rows themselves are written by the causing transaction, on the app's engine, with
    full durability. This removes one fsync per message from the drain.

    A pooled connection is checked before use only after a second in the pool
    (``ping_idle_after``): if the server restarted in that second, the transaction that meets
    it fails, the pool is renewed, and the loop tries again, as after any database error."""
    if settings.is_sqlite:
        return {}
    return {"connect_args": {"server_settings": {"synchronous_commit": "off"}},
            # a busy loop's transactions follow each other within milliseconds: checking the
            # connection before each would add a round trip to every one of them
            "ping_idle_after": 1.0}


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def worker_command(settings: Settings, *, once: bool, concurrency: int) -> int:
    """``portal worker``: run until SIGTERM (or, with ``once``, until nothing is due)."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    attempted = await run_workers(settings, once=once, concurrency=concurrency, stop=stop)
    if once:
        engine = open_engine(settings)
        try:
            async with transaction(session_factory(engine)) as db:
                counts = await outbox.status_counts(db)
        finally:
            await engine.dispose()
        summary = "，".join(f"{status} {count}" for status, count in sorted(counts.items()))
        print(f"本次发送 {attempted} 条通知；通知状态：{summary or '无'}", flush=True)
    return 0


@asynccontextmanager
async def in_process_worker(settings: Settings) -> AsyncIterator[None]:
    """One notification loop (and the reminder job) for as long as the block runs: the web
    app's lifespan holds it, so it stops gracefully before the server exits."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(settings, once=False, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task
