"""The worker drains the outbox: delivers, retries temporary failures with back-off and
jitter up to a limit, marks permanent failures, records every attempt, defers (never drops)
what the rate limits refuse, and reclaims what a dead worker left leased.

Time is the test's ``Clock``: a retry is reached by moving the clock, not by sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from notifications import (
    ChannelKind,
    DeliveryResult,
    DeliveryStatus,
    FakeChannel,
    RateLimit,
    RateLimits,
    Rendered,
    RetryPolicy,
)
from portal.database import transaction
from portal.services import notices, outbox
from tests.conftest import Database
from tests.portal.workers.notification_factories import (
    T0,
    Clock,
    CountingChannel,
    attempts,
    enqueue,
    inbox_channel,
    make_party,
    make_worker,
    messages,
    renderer,
)


async def test_worker_delivers_every_channel_and_records_each_attempt(database: Database) -> None:
    party = await make_party(database, email="zhang@example.com", mobile="13800138000")
    await enqueue(database, party, "arrival:1")
    clock, email, sms = Clock(), FakeChannel(), FakeChannel()
    worker = make_worker(database, clock, email=email, sms=sms)

    assert await worker.drain() == 3
    assert await worker.drain() == 0  # nothing left, nothing sent twice

    rows = await messages(database)
    assert [(row.status, row.attempts, row.next_attempt_at, row.locked_by) for row in rows] == [
        ("delivered", 1, None, None)] * 3
    assert all(row.delivered_at == T0 for row in rows)
    tries = await attempts(database)
    assert [(a.attempt_no, a.status, a.worker_id) for a in tries] == [
        (1, "delivered", "test-worker")] * 3
    [mail], [sms_sent] = email.sent, sms.sent
    assert mail.recipient == "zhang@example.com" and "福州市市场监督管理局" in (mail.rendered.subject or "")
    assert sms_sent.rendered.body.endswith("请登录 http://testserver/mailbox 查看。")
    async with database.sessions() as db:
        [notice] = await notices.recent_notices(db, party)
    assert notice.title == "新文书：关于某某公司违法行为的行政处罚决定书"
    assert "2026年9月28日 09:00（北京时间）" in notice.body
    inbox_try = next(a for a in tries if a.channel == "inbox")
    assert inbox_try.provider_message_id == f"notice:{notice.id}"


async def test_permanent_failure_is_marked_and_not_retried(database: Database) -> None:
    party = await make_party(database, email="nobody@example.com")
    await enqueue(database, party, "arrival:2")
    clock, email = Clock(), FakeChannel()
    email.reject("nobody@example.com")
    worker = make_worker(database, clock, email=email)

    await worker.drain()
    clock.advance(timedelta(days=2))
    await worker.drain()

    [row] = await messages(database, channel="email")
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (
        "permanent-failure", 1, "recipient_rejected", None)
    assert [(a.status, a.reason) for a in await attempts(database, row.id)] == [
        ("permanent-failure", "recipient_rejected")]
    assert email.attempts == 1


async def test_temporary_failures_back_off_and_give_up_at_the_limit(database: Database) -> None:
    party = await make_party(database, mobile="13800138000")
    await enqueue(database, party, "arrival:3")
    policy = RetryPolicy(base=timedelta(minutes=1), cap=timedelta(hours=1), max_attempts=4)
    clock, sms = Clock(), FakeChannel()
    sms.fail_next(10)
    worker = make_worker(database, clock, sms=sms, policy=policy)

    for _ in range(6):  # more rounds than attempts: the limit, not the test, stops it
        await worker.drain()
        [row] = await messages(database, channel="sms")
        if row.next_attempt_at is not None:
            clock.now = row.next_attempt_at

    [row] = await messages(database, channel="sms")
    assert (row.status, row.attempts, row.last_error) == ("permanent-failure", 4, "attempts_exhausted")
    tries = await attempts(database, row.id)
    assert [a.reason for a in tries] == ["channel_unavailable"] * 4
    assert sms.attempts == 4
    # Each wait is drawn from [0, base·2^(n-1)]: exponential ceilings with full jitter.
    waits = [later.started_at - earlier.finished_at for earlier, later in itertools.pairwise(tries)]
    assert all(timedelta(0) <= wait <= policy.ceiling(n) for n, wait in enumerate(waits, start=1))
    assert len(set(waits)) == len(waits)  # jittered, not a fixed schedule


async def test_rate_limited_messages_are_deferred_not_dropped(database: Database) -> None:
    party = await make_party(database, mobile="13800138000")
    for n in range(5):
        await enqueue(database, party, f"flood:{n}")
    limits = RateLimits(per_party=RateLimit(2, timedelta(hours=1)),
                        overall=RateLimit(100, timedelta(minutes=1)))
    clock, sms = Clock(), CountingChannel()
    worker = make_worker(database, clock, sms=sms, limits=limits)

    await worker.drain()

    assert len(sms.calls) == 2  # the per-party limit
    assert [row.status for row in await messages(database, channel="inbox")] == ["delivered"] * 5
    waiting = [row for row in await messages(database, channel="sms") if row.status != "delivered"]
    assert [(row.status, row.attempts, row.next_attempt_at) for row in waiting] == [
        ("created", 0, T0 + timedelta(hours=1))] * 3
    clock.advance(timedelta(minutes=59))
    await worker.drain()
    assert len(sms.calls) == 2
    clock.advance(timedelta(minutes=1))
    await worker.drain()
    assert len(sms.calls) == 4
    clock.advance(timedelta(hours=1))
    await worker.drain()
    assert len(sms.calls) == 5 and set(sms.calls.values()) == {1}
    assert {row.status for row in await messages(database)} == {"delivered"}


async def test_global_limit_holds_across_parties(database: Database) -> None:
    parties = [await make_party(database, mobile=f"1380013800{n}") for n in range(4)]
    for n, party in enumerate(parties):
        await enqueue(database, party, f"event:{n}")
    limits = RateLimits(overall=RateLimit(3, timedelta(minutes=1)))
    clock, sms = Clock(), CountingChannel()
    worker = make_worker(database, clock, sms=sms, limits=limits)

    await worker.drain()
    assert len(sms.calls) == 3
    clock.advance(timedelta(minutes=1))
    await worker.drain()
    assert len(sms.calls) == 4


async def test_a_dead_workers_lease_is_reclaimed_after_it_expires(database: Database) -> None:
    party = await make_party(database, email="zhang@example.com")
    await enqueue(database, party, "arrival:4")
    clock = Clock()
    # Worker A claims and then dies: it never sends nor records anything.
    async with transaction(database.sessions) as db:
        batch = await outbox.claim_batch(db, worker_id="worker-a", limit=10, now=clock(),
                                         lease=timedelta(minutes=5), policy=RetryPolicy(),
                                         limits=RateLimits())
    assert len(batch.claimed) == 2
    email = CountingChannel()
    worker_b = make_worker(database, clock, email=email, worker_id="worker-b")

    assert await worker_b.drain() == 0  # leased: not due for anyone else
    clock.advance(timedelta(minutes=5))
    assert await worker_b.drain() == 2

    [row] = await messages(database, channel="email")
    assert (row.status, row.attempts) == ("delivered", 2)
    assert [(a.attempt_no, a.worker_id, a.status, a.reason) for a in await attempts(database, row.id)] == [
        (1, "worker-a", "temporary-failure", "lease_expired"),
        (2, "worker-b", "delivered", None),
    ]
    # Worker A was only slow, not dead: its late result finds the lease gone and changes nothing.
    late = next(m for m in batch.claimed if m.channel is ChannelKind.EMAIL)
    async with transaction(database.sessions) as db:
        assert await outbox.record_results(
            db, [outbox.Tried(late, DeliveryResult.delivered("late"), T0, clock())],
            worker_id="worker-a", policy=RetryPolicy(), rng=worker_b.rng) == [None]
    assert len(await attempts(database, row.id)) == 2


async def test_a_late_batch_records_only_the_messages_still_leased_to_it(database: Database) -> None:
    party = await make_party(database, email="li@example.com")
    await enqueue(database, party, "arrival:late")
    clock = Clock()
    lease, policy, limits = timedelta(minutes=5), RetryPolicy(), RateLimits()

    async def claim_one(worker_id: str) -> outbox.Batch:
        async with transaction(database.sessions) as db:
            return await outbox.claim_batch(db, worker_id=worker_id, limit=1, now=clock(),
                                            lease=lease, policy=policy, limits=limits)

    # Worker A leases the two messages a minute apart, then stalls.
    [first] = (await claim_one("worker-a")).claimed
    clock.advance(timedelta(minutes=1))
    [second] = (await claim_one("worker-a")).claimed
    # The first lease runs out and worker B takes that message over; the second is still A's.
    clock.advance(timedelta(minutes=4))
    taken = await claim_one("worker-b")
    assert ([m.id for m in taken.claimed], taken.reclaimed) == ([first.id], 1)

    # A's results for both arrive in one record: only the second is still A's to record.
    tries = [outbox.Tried(m, DeliveryResult.delivered(f"late-{m.id}"), T0, clock())
             for m in (first, second)]
    async with transaction(database.sessions) as db:
        outcomes = await outbox.record_results(db, tries, worker_id="worker-a", policy=policy,
                                               rng=random.Random(1))
    assert outcomes[0] is None
    assert outcomes[1] is not None and outcomes[1].status is DeliveryStatus.DELIVERED

    rows = {row.id: row for row in await messages(database)}
    assert (rows[first.id].status, rows[first.id].attempts, rows[first.id].locked_by) == (
        "sending", 1, "worker-b")  # B's lease, the lost attempt counted once, nothing of A's
    assert (rows[second.id].status, rows[second.id].attempts, rows[second.id].locked_by) == (
        "delivered", 1, None)
    assert [(a.attempt_no, a.worker_id, a.reason) for a in await attempts(database, first.id)] == [
        (1, "worker-a", "lease_expired")]
    assert [(a.attempt_no, a.worker_id, a.status) for a in await attempts(database, second.id)] == [
        (1, "worker-a", "delivered")]


class StopAfterFirst:
    """A channel that asks the worker to stop (like SIGTERM) while sending its first message."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.sent = 0

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        self.sent += 1
        self.stop.set()
        return DeliveryResult.delivered(None)


async def test_stop_finishes_the_message_in_hand_and_releases_the_rest(database: Database) -> None:
    party = await make_party(database, mobile="13800138000")
    for n in range(3):
        await enqueue(database, party, f"arrival:{10 + n}", now=T0 + timedelta(seconds=n))
    stop = asyncio.Event()
    sms = StopAfterFirst(stop)
    clock = Clock(T0 + timedelta(seconds=5))
    worker = make_worker(database, clock, sms=sms)

    await worker.drain(stop)

    # The first event's notice went first, then its SMS, during which the stop came.
    assert sms.sent == 1
    rows = await messages(database)
    assert [row.dedupe_key for row in rows if row.status == "delivered"] == [
        "arrival:10:inbox", "arrival:10:sms"]
    released = [row for row in rows if row.status != "delivered"]
    assert len(released) == 4
    assert all((row.status, row.attempts, row.locked_by, row.next_attempt_at) ==
               ("created", 0, None, clock()) for row in released)
    assert len(await attempts(database)) == 2


async def test_postgresql_refuses_rewriting_attempts(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; SQLite relies on the code never issuing it")
    party = await make_party(database)
    await enqueue(database, party, "arrival:20")
    await make_worker(database, Clock()).drain()
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE outbox_attempts SET status = 'delivered'"))


async def test_a_notice_sent_again_after_a_crash_is_shown_once(database: Database) -> None:
    party = await make_party(database)
    await enqueue(database, party, "arrival:30")
    clock = Clock()
    async with transaction(database.sessions) as db:
        batch = await outbox.claim_batch(db, worker_id="worker-a", limit=10, now=clock(),
                                         lease=timedelta(minutes=5), policy=RetryPolicy(),
                                         limits=RateLimits())
    [claimed] = batch.claimed
    rendered = renderer().render(claimed.message(), version=claimed.template_version)
    first = await inbox_channel(database, clock).send(rendered, claimed.recipient,
                                                      dedupe_key=claimed.dedupe_key)
    # Worker A dies here: the notice is stored, the attempt is not recorded.
    clock.advance(timedelta(minutes=5))
    await make_worker(database, clock, worker_id="worker-b").drain()

    async with database.sessions() as db:
        [notice] = await notices.recent_notices(db, party)
    [row] = await messages(database)
    assert (row.status, row.attempts) == ("delivered", 2)
    last = (await attempts(database, row.id))[-1]
    assert last.provider_message_id == first.provider_message_id == f"notice:{notice.id}"
