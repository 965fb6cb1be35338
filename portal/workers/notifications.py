"""The notification worker: claim a batch, send it, record the attempts.

One loop iteration is a few short transactions, none of them open while a channel is talking
to the outside world:

1. claim: lease up to ``batch_size`` due messages (``portal.services.outbox.claim_batch``) and
   commit, so other workers skip them;
2. send, outside any transaction, in claim order. A message for a ``BatchChannel`` (whose
   receiver recognises a repeat: the notice store, the SMS gateway, the mail sandbox) waits
   with the others of its channel and they go in one ``send_many`` call. A message for any
   other channel (SMTP: a repeat reaches the person twice) is sent alone, after what waited;
3. record: the results of everything sent so far, in one transaction of multi-row statements
   (``outbox.record_results``: the attempts appended, each message moved on as
   ``RetryPolicy.outcome`` says: delivered, retry later with back-off and jitter, or
   permanent failure). This happens right after each lone send, so before the next one
   starts, and at the end of the batch.

Delivery is therefore at-least-once: if the process dies between 2 and 3, what it sent since
its last record has no recorded result; the lease runs out, another worker reclaims it and
sends it again. For a lone (SMTP) send that is only the one message in flight, as each is
recorded before the next starts (the rest of a dead worker's batch is reclaimed unsent);
batched messages go again to receivers that know them: the SMS gateway gets the same
reference, in-portal notices are stored idempotently on the dedupe key, the mail sandbox
keeps one file per message.

A message is only sent while its lease has at least ``send_timeout`` left, so a slow batch
never overlaps a reclaim; what is left is released. ``stop`` (SIGTERM) is honoured between
sends: what is being sent is finished and recorded, the rest released.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import (
    BatchChannel,
    Channel,
    ChannelKind,
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryResult,
    MessageRejected,
    Outgoing,
    RateLimits,
    Renderer,
    RetryPolicy,
    TemplateError,
)
from portal.database import transaction, utcnow
from portal.services import outbox
from portal.services.outbox import Batch, ClaimedMessage, Tried

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
        unsent = await self._work_through(batch.claimed, stop)
        if unsent:
            async with transaction(self.sessions) as db:
                await outbox.release(db, (m.id for m in unsent), worker_id=self.worker_id,
                                     now=self.clock())
        return batch

    async def _work_through(self, claimed: Sequence[ClaimedMessage],
                            stop: asyncio.Event | None) -> list[ClaimedMessage]:
        """Send and record the claimed messages in order, gathering those of batch channels;
        return what is left unsent (a stop, or a lease too short to start a send)."""
        waiting: dict[ChannelKind, list[ClaimedMessage]] = {}
        for n, message in enumerate(claimed):
            if isinstance(self.channels.get(message.channel), BatchChannel):
                waiting.setdefault(message.channel, []).append(message)
                continue
            # What waited goes first: recorded with this send, before the next one starts.
            unsent = await self._send_and_record([*waiting.values(), [message]], stop)
            waiting.clear()
            if unsent:
                return [*unsent, *claimed[n + 1:]]
        return await self._send_and_record(list(waiting.values()), stop)

    def _must_not_send(self, message: ClaimedMessage, stop: asyncio.Event | None) -> bool:
        """Stopping, or the lease would end before a send started now must have finished."""
        return ((stop is not None and stop.is_set())
                or self.clock() + self.options.send_timeout >= message.lease_until)

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

    async def _send_and_record(self, groups: Sequence[Sequence[ClaimedMessage]],
                               stop: asyncio.Event | None) -> list[ClaimedMessage]:
        """Send each group (one channel's messages) in turn, then record every result at once;
        return the groups not started (stopping, or a lease too short)."""
        tries: list[Tried] = []
        unsent: list[ClaimedMessage] = []
        for n, group in enumerate(groups):
            if self._must_not_send(group[0], stop):  # one claim: one lease for the group
                unsent = list(chain.from_iterable(groups[n:]))
                break
            started_at = self.clock()
            results = await self._deliver(self.channels.get(group[0].channel), group)
            finished_at = self.clock()
            tries += [Tried(message, result, started_at, finished_at)
                      for message, result in zip(group, results, strict=True)]
        if tries:
            await self._record(tries)
        return unsent

    async def _record(self, tries: Sequence[Tried]) -> None:
        async with transaction(self.sessions) as db:
            outcomes = await outbox.record_results(db, tries, worker_id=self.worker_id,
                                                   policy=self.options.policy, rng=self.rng)
        for done, outcome in zip(tries, outcomes, strict=True):
            if done.result.error is not None:
                log.warning("notification attempt failed", extra={
                    "job": "notifications", "object": f"outbox:{done.message.id}",
                    "attempt": done.message.attempt_no, "code": done.result.reason,
                    "reason": outcome.status.value if outcome else "lease_lost"})

    async def _deliver(self, channel: Channel | None,
                       group: Sequence[ClaimedMessage]) -> list[DeliveryResult]:
        """One try for each message of one channel's group: one ``send_many`` call on a batch
        channel, else one ``send`` (the group is one message). Every failure becomes a
        result, never a raise."""
        if channel is None:
            return [DeliveryResult.failed(ChannelMisconfigured(f"no {group[0].channel} channel"))
                    ] * len(group)
        results: list[DeliveryResult | None] = []
        items: list[Outgoing] = []
        for message in group:
            try:
                rendered = self.renderer.render(message.message(),
                                                version=message.template_version)
            except TemplateError as exc:
                # The row was rendered when it was written; only a removed template gets here.
                results.append(DeliveryResult.failed(
                    MessageRejected(f"cannot render: {type(exc).__name__}")))
                continue
            results.append(None)
            items.append(Outgoing(rendered, message.recipient, message.dedupe_key))
        sent = iter(await self._send(channel, items, group) if items else [])
        return [result or next(sent) for result in results]

    async def _send(self, channel: Channel, items: Sequence[Outgoing],
                    group: Sequence[ClaimedMessage]) -> list[DeliveryResult]:
        try:
            async with asyncio.timeout(self.options.send_timeout.total_seconds()):
                if isinstance(channel, BatchChannel):
                    return await channel.send_many(items)
                return [await channel.send(item.rendered, item.recipient,
                                           dedupe_key=item.dedupe_key) for item in items]
        except TimeoutError:
            failure = DeliveryResult.failed(ChannelUnavailable("send timed out"))
        except Exception as exc:
            # A channel's bug or the notice store's database: retried like an outage. Only the
            # type is kept; an exception's text may quote the recipient.
            log.error("notification channel raised", extra={
                "job": "notifications", "object": f"outbox:{group[0].id}",
                "count": len(items), "reason": type(exc).__name__})
            failure = DeliveryResult.failed(
                ChannelUnavailable(f"channel raised {type(exc).__name__}"))
        return [failure] * len(items)
