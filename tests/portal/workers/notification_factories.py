"""Fixtures for the portal side of notifications: parties with contact preferences, a clock
the test moves by hand, channels that count what they are given, and a worker factory.

Time is never waited for: the worker and the services take ``now``/a clock, so a test moves
the clock to the next retry instead of sleeping.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from notifications import (
    Channel,
    ChannelKind,
    DeliveryResult,
    InboxChannel,
    InboxNotice,
    Kind,
    RateLimits,
    Rendered,
    Renderer,
    RetryPolicy,
)
from notifications.channels.base import message_reference
from portal.database import transaction
from portal.models import OutboxAttempt, OutboxMessage
from portal.services import notices, notification_preferences, outbox
from portal.workers.notifications import NotificationWorker, WorkerOptions
from tests import builders
from tests.conftest import Database
from tests.identities import numbered_person

PORTAL_URL = "http://testserver"
# Monday 28 September 2026, 09:00 China time: just before the National Day holiday.
T0 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)

DOCUMENT_FACTS: dict[str, object] = {
    "case_code": "FJ-FZ-2026-000123",
    "document_type": "行政处罚决定书",
    "agency_name": "福州市市场监督管理局",
    "document_title": "关于某某公司违法行为的行政处罚决定书",
    "arrived_at": datetime(2026, 9, 28, 1, 0, tzinfo=UTC),
}

_numbers = itertools.count(1)


def renderer() -> Renderer:
    return outbox.renderer_for(PORTAL_URL)


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class CountingChannel:
    """Accepts everything and counts calls per dedupe key (duplicates stay visible)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.received: list[tuple[str, Rendered]] = []

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        self.calls[dedupe_key] += 1
        self.received.append((recipient, rendered))
        return DeliveryResult.delivered(f"counted-{message_reference(dedupe_key)}")


async def make_party(database: Database, *, email: str | None = None,
                     mobile: str | None = None) -> int:
    """A person with the given contacts switched on (none: the in-portal notice only)."""
    number = next(_numbers)
    async with transaction(database.sessions) as db:
        party = await builders.party(db, numbered_person(number))
        if email or mobile:
            await notification_preferences.set_preferences(
                db, party.id, email=email, mobile=mobile, email_enabled=email is not None,
                sms_enabled=mobile is not None, now=T0)
        return party.id


async def enqueue(database: Database, party_id: int, event_id: str, *,
                  kind: Kind = Kind.DOCUMENT_ARRIVED, context: Mapping[str, object] = DOCUMENT_FACTS,
                  now: datetime = T0) -> list[int]:
    async with transaction(database.sessions) as db:
        return await outbox.enqueue(db, event_id=event_id, kind=kind, party_id=party_id,
                                    context=context, renderer=renderer(), now=now)


def inbox_channel(database: Database, clock: Clock) -> InboxChannel:
    async def store(batch: Sequence[InboxNotice]) -> list[str]:
        async with transaction(database.sessions) as db:
            return await notices.store_notices(db, batch, now=clock())

    return InboxChannel(store)


def make_worker(database: Database, clock: Clock, *, email: Channel | None = None,
                sms: Channel | None = None, worker_id: str = "test-worker",
                policy: RetryPolicy | None = None, limits: RateLimits | None = None,
                batch_size: int = 20, seed: int = 7) -> NotificationWorker:
    channels: dict[ChannelKind, Channel] = {ChannelKind.INBOX: inbox_channel(database, clock)}
    if email is not None:
        channels[ChannelKind.EMAIL] = email
    if sms is not None:
        channels[ChannelKind.SMS] = sms
    options = WorkerOptions(batch_size=batch_size, policy=policy or RetryPolicy(),
                            limits=limits or RateLimits())
    return NotificationWorker(database.sessions, channels, renderer(), worker_id=worker_id,
                              options=options, clock=clock, rng=random.Random(seed))


async def messages(database: Database, **where: object) -> list[OutboxMessage]:
    async with database.sessions() as db:
        query = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        return list((await db.execute(query)).scalars())


async def attempts(database: Database, message_id: int | None = None) -> list[OutboxAttempt]:
    async with database.sessions() as db:
        query = select(OutboxAttempt).order_by(OutboxAttempt.message_id, OutboxAttempt.attempt_no)
        if message_id is not None:
            query = query.where(OutboxAttempt.message_id == message_id)
        return list((await db.execute(query)).scalars())


async def count(database: Database, table: str) -> int:
    async with database.sessions() as db:
        return int((await db.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
