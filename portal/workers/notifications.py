"""The notification worker: claim a batch, send each message, record each attempt.

One loop iteration is three kinds of transaction, none of them open while a channel is
talking to the outside world:

1. claim: lease up to ``batch_size`` due messages (``portal.services.outbox.claim_batch``) and
   commit, so other workers skip them;
2. send each message with its channel, outside any transaction;
3. record: right after each send, append the attempt and move the message on
   (``RetryPolicy.outcome``: delivered, retry later with back-off and jitter, or permanent
   failure) and commit.

Delivery is therefore at-least-once: if the process dies between 2 and 3, the message it was
sending has no recorded result; its lease runs out, another worker reclaims it and sends it
again. Recording per message keeps that to the one message in flight per worker loop (the
rest of a dead worker's batch is reclaimed unsent). Receivers can tell the copy: e-mails carry
the same Message-ID, the SMS gateway gets the same reference, and in-portal notices are stored
idempotently on the dedupe key.

A message is only sent while its lease has at least ``send_timeout`` left, so a slow batch
never overlaps a reclaim; what is left is released. ``stop`` (SIGTERM) is honoured between
messages: the one being sent is finished and recorded, the rest released.

Time comes from ``clock`` and randomness from ``rng``, so tests drive back-off without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import (
    Channel,
    ChannelKind,
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryResult,
    MessageRejected,
    RateLimits,
    Renderer,
    RetryPolicy,
    TemplateError,
)
from portal.database import transaction, utcnow
from portal.services import outbox
from portal.services.outbox import Batch, ClaimedMessage

log = logging.getLogger("portal.workers.notifications")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker claims and retries; ``portal.workers.runner`` fills it from settings.

    ``lease`` must be longer than ``send_timeout``: a lease that ends while its message is
    still being sent would let a second worker send it too.
    """

    batch_size: int = 20
    lease: timedelta = timedelta(minutes=5)
    send_timeout: timedelta = timedelta(seconds=60)
    poll_interval: float = 2.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    limits: RateLimits = field(default_factory=RateLimits)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.lease <= self.send_timeout:
            raise ValueError("the lease must be longer than the send timeout")


def new_worker_id(loop_no: int = 0) -> str:
    """Host, process and loop, plus a random tag so a restarted process is a new holder."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{loop_no}:{secrets.token_hex(3)}"


class NotificationWorker:
    """One sequential loop draining the outbox; run several for concurrency."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[ChannelKind, Channel],
        renderer: Renderer,
        *,
        worker_id: str | None = None,
        options: WorkerOptions | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.renderer = renderer
        self.worker_id = worker_id or new_worker_id()
        self.options = options or WorkerOptions()
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)

    async def run_batch(self, stop: asyncio.Event | None = None) -> Batch:
        """Claim one batch and work through it; return what the claim did."""
        options = self.options
        async with transaction(self.sessions) as db:
            batch = await outbox.claim_batch(
                db, worker_id=self.worker_id, limit=options.batch_size, now=self.clock(),
                lease=options.lease, policy=options.policy, limits=options.limits,
            )
        if batch.reclaimed:
            # Some worker died or stalled past its lease: worth an operator's look.
            log.warning("expired leases reclaimed", extra={"job": "notifications",
                                                          "count": batch.reclaimed})
        pending = list(batch.claimed)
        while pending:
            message = pending[0]
            if stop is not None and stop.is_set():
                break
            if self.clock() + options.send_timeout >= message.lease_until:
                break
            pending.pop(0)
            await self._attempt(message)
        if pending:
            async with transaction(self.sessions) as db:
                await outbox.release(db, (m.id for m in pending), worker_id=self.worker_id,
                                     now=self.clock())
        return batch

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Work until nothing is due now; return how many messages were attempted."""
        attempted = 0
        while stop is None or not stop.is_set():
            batch = await self.run_batch(stop)
            attempted += len(batch.claimed)
            if not batch.touched:
                break
        return attempted

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then poll every ``poll_interval`` seconds, until ``stop`` is set."""
        log.info("notification worker started", extra={"job": "notifications",
                                                       "object": self.worker_id})
        while not stop.is_set():
            try:
                await self.drain(stop)
            except (SQLAlchemyError, OSError) as exc:
                # The database is away (restarting, failing over): keep the process, try again.
                log.error("notification worker: database unavailable", extra={
                    "job": "notifications", "reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.options.poll_interval)
        log.info("notification worker stopped", extra={"job": "notifications",
                                                       "object": self.worker_id})

    async def _attempt(self, message: ClaimedMessage) -> None:
        started_at = self.clock()
        result = await self._send(message)
        finished_at = self.clock()
        async with transaction(self.sessions) as db:
            outcome = await outbox.record_result(
                db, message, result, worker_id=self.worker_id, started_at=started_at,
                finished_at=finished_at, policy=self.options.policy, rng=self.rng,
            )
        if result.error is not None:
            log.warning("notification attempt failed", extra={
                "job": "notifications", "object": f"outbox:{message.id}",
                "attempt": message.attempt_no, "code": result.reason,
                "reason": outcome.status.value if outcome else "lease_lost"})

    async def _send(self, message: ClaimedMessage) -> DeliveryResult:
        """One try on the message's channel; every failure becomes a result, never a raise."""
        channel = self.channels.get(message.channel)
        if channel is None:
            return DeliveryResult.failed(ChannelMisconfigured(f"no {message.channel} channel"))
        try:
            rendered = self.renderer.render(message.message(), version=message.template_version)
        except TemplateError as exc:
            # The row was rendered when it was written; only a removed template gets here.
            return DeliveryResult.failed(MessageRejected(f"cannot render: {type(exc).__name__}"))
        try:
            async with asyncio.timeout(self.options.send_timeout.total_seconds()):
                return await channel.send(rendered, message.recipient,
                                          dedupe_key=message.dedupe_key)
        except TimeoutError:
            return DeliveryResult.failed(ChannelUnavailable("send timed out"))
        except Exception as exc:
            # A channel's bug or the notice store's database: retried like an outage. Only the
            # type is kept; an exception's text may quote the recipient.
            log.error("notification channel raised", extra={
                "job": "notifications", "object": f"outbox:{message.id}",
                "reason": type(exc).__name__})
            return DeliveryResult.failed(ChannelUnavailable(f"channel raised {type(exc).__name__}"))
