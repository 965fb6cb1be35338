"""The worker sends a claim's messages for batch channels together and records them together,
without giving up what one message at a time guaranteed: a failure in a batch touches only its
own message, no message is sent twice by workers racing for the outbox, and an e-mail (a lone
channel: a repeat would reach the person twice) is on record before the next one is sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from notifications import (
    ChannelUnavailable,
    DeliveryResult,
    FakeChannel,
    Outgoing,
    Rendered,
)
from notifications.channels.base import BatchChannel
from portal.models import OutboxAttempt
from tests.conftest import Database
from tests.portal.workers.notification_factories import (
    Clock,
    attempts,
    enqueue,
    make_party,
    make_worker,
    messages,
)


class BatchCountingChannel:
    """A batch channel that counts every message it is given and fails, once each, the
    dedupe keys in ``fail_once``."""

    def __init__(self, fail_once: Sequence[str] = ()) -> None:
        self.calls: Counter[str] = Counter()
        self.batches: list[int] = []
        self._fail_once = set(fail_once)

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        [result] = await self.send_many([Outgoing(rendered, recipient, dedupe_key)])
        return result

    async def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        self.batches.append(len(items))
        await asyncio.sleep(0)  # let a racing worker run in between
        results = []
        for item in items:
            self.calls[item.dedupe_key] += 1
            if item.dedupe_key in self._fail_once:
                self._fail_once.discard(item.dedupe_key)
                results.append(DeliveryResult.failed(ChannelUnavailable("gateway busy")))
            else:
                results.append(DeliveryResult.delivered(f"id-{item.dedupe_key}"))
        return results


async def test_one_failure_in_a_batch_neither_loses_nor_resends_the_others(
    database: Database,
) -> None:
    parties = [await make_party(database, mobile=f"1380013800{n}") for n in range(5)]
    for n, party in enumerate(parties):
        await enqueue(database, party, f"arrival:{n}")
    sms = BatchCountingChannel(fail_once=["arrival:2:sms"])
    assert isinstance(sms, BatchChannel)
    clock = Clock()
    worker = make_worker(database, clock, sms=sms)

    assert await worker.drain() == 10
    assert sms.batches == [5]  # one call for the claim's five SMS
    rows = {row.dedupe_key: row for row in await messages(database, channel="sms")}
    failed = rows.pop("arrival:2:sms")
    assert (failed.status, failed.attempts, failed.last_error) == (
        "temporary-failure", 1, "channel_unavailable")
    assert {(row.status, row.attempts) for row in rows.values()} == {("delivered", 1)}

    assert failed.next_attempt_at is not None
    clock.now = failed.next_attempt_at
    assert await worker.drain() == 1  # only the failed one is tried again

    assert sms.calls == Counter({f"arrival:{n}:sms": 2 if n == 2 else 1 for n in range(5)})
    assert {row.status for row in await messages(database)} == {"delivered"}
    [first, second] = await attempts(database, failed.id)
    assert (first.status, second.status) == ("temporary-failure", "delivered")


async def test_an_email_is_on_record_before_the_next_is_sent(database: Database) -> None:
    for n in range(3):
        party = await make_party(database, email=f"party{n}@example.com")
        await enqueue(database, party, f"arrival:{n}")
    recorded_before: list[int] = []

    class Watching(FakeChannel):
        """Looks at the attempt log at each send: what is on record by then."""

        async def send(self, rendered: Rendered, recipient: str, *,
                       dedupe_key: str) -> DeliveryResult:
            async with database.sessions() as db:
                recorded_before.append((await db.execute(
                    select(func.count()).select_from(OutboxAttempt)
                    .where(OutboxAttempt.channel == "email"))).scalar_one())
            return await super().send(rendered, recipient, dedupe_key=dedupe_key)

    worker = make_worker(database, Clock(), email=Watching())
    assert await worker.drain() == 6

    assert recorded_before == [0, 1, 2]  # only the e-mail in hand is ever unrecorded


@pytest.mark.postgres
async def test_two_workers_racing_never_send_one_message_twice(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("workers side by side need PostgreSQL (SKIP LOCKED)")
    for n in range(60):
        party = await make_party(database, mobile=f"138{n:08d}")
        await enqueue(database, party, f"arrival:{n}")
    sms = BatchCountingChannel()
    clock = Clock()
    workers = [make_worker(database, clock, sms=sms, worker_id=f"worker-{n}", batch_size=7)
               for n in range(2)]

    drained = await asyncio.gather(*(worker.drain() for worker in workers))

    assert sum(drained) == 120 and min(drained) > 0  # both worked
    assert len(sms.calls) == 60 and set(sms.calls.values()) == {1}
    assert {row.status for row in await messages(database)} == {"delivered"}
    tries = await attempts(database)
    assert len(tries) == 120 and {a.attempt_no for a in tries} == {1}
