"""The notification outbox: written with the event that causes it, drained by workers.

``enqueue`` runs inside the causing transaction (a document's arrival, a payment's
confirmation). It renders the message for every channel first, so a context the templates
refuse fails *that* transaction rather than a worker hours later, then writes one row per
channel the party has enabled (the in-portal notice always). The dedupe key is the event id
plus the channel, unique in the table: enqueueing the same event again changes nothing. So an
event that committed always has its messages and a rolled-back one never has any.

Workers use the other three, each in its own short transaction:

- ``claim_batch`` takes due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL: workers
  side by side never take the same row; SQLite's ``BEGIN IMMEDIATE`` serialises claims anyway)
  and writes what `notifications.claim` decides for each: rows whose lease ran out are
  reclaimed (their worker died: the lost attempt is recorded), what the rate limits refuse is
  deferred, and the rest is leased to the worker as ``sending``.
- ``record_results`` appends the attempts of a batch and moves each row on as
  ``RetryPolicy.outcome`` says (one statement of each kind for the batch), but only while the
  worker still holds the lease; a worker whose lease was taken over records
  nothing (the new holder already recorded the lost attempt) and its send is the duplicate
  that at-least-once delivery allows.
- ``release`` hands back leased rows a stopping worker did not get to.
"""

from __future__ import annotations

import functools
import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import (
    ChannelKind,
    ContextRejected,
    Defer,
    DeliveryResult,
    DeliveryStatus,
    GiveUp,
    Kind,
    Message,
    Outcome,
    RateLimits,
    Renderer,
    RetryPolicy,
    claim,
    dedupe_key,
)
from portal.database import UTCDateTime, database_now, insert_ignoring
from portal.models.outbox import PENDING, OutboxAttempt, OutboxMessage
from portal.services.notification_preferences import Preferences, get_preferences, get_preferences_and_now
from portal.services.outbox_limits import SendHistory, load_history

log = logging.getLogger("portal.notifications")

_MESSAGES = cast(Table, OutboxMessage.__table__)
_ATTEMPTS = cast(Table, OutboxAttempt.__table__)
_SENDING = DeliveryStatus.SENDING.value
_LEASE_EXPIRED_DETAIL = "lease expired before the result was recorded; it may have been sent"


@dataclass(frozen=True)
class ClaimedMessage:
    """A row leased to one worker for one attempt, with what it needs to send it."""

    id: int
    kind: Kind
    channel: ChannelKind
    party_id: int
    recipient: str
    context: Mapping[str, Any]
    dedupe_key: str
    template_version: int
    attempt_no: int
    lease_until: datetime

    def message(self) -> Message:
        """The library's message value, for rendering."""
        return Message(
            id=str(self.id),
            kind=self.kind,
            channel=self.channel,
            recipient=self.recipient,
            context=self.context,
            dedupe_key=self.dedupe_key,
        )


@dataclass(frozen=True)
class Batch:
    """What one claim did: the leased messages, and how many it deferred (rate limits),
    reclaimed from a dead worker's lease, or gave up on."""

    claimed: tuple[ClaimedMessage, ...] = ()
    deferred: int = 0
    reclaimed: int = 0
    gave_up: int = 0

    @property
    def touched(self) -> int:
        """Rows the claim changed; 0 means nothing was due."""
        return len(self.claimed) + self.deferred + self.gave_up


@functools.lru_cache(maxsize=8)
def renderer_for(public_url: str) -> Renderer:
    """One renderer per public URL; building one compiles and checks the whole catalogue."""
    return Renderer(public_url)


def _jsonable(value: object) -> object:
    """Dates and instants as ISO text: what the JSON column stores and the renderer accepts."""
    return value.isoformat() if isinstance(value, date) else value


def channel_contexts(
    renderer: Renderer, *, event_id: str, kind: Kind, context: Mapping[str, object]
) -> dict[ChannelKind, tuple[dict[str, object], int]]:
    """Each channel's slice of ``context`` and its template version, proven by rendering.

    Every channel is rendered, enabled or not, so a caller's bad context fails every time
    and not only for parties who chose SMS. A key no channel of the kind uses is refused too:
    it is a typo or data that should not be there.
    """
    facts = {key: _jsonable(value) for key, value in context.items()}
    used: set[str] = set()
    sliced: dict[ChannelKind, tuple[dict[str, object], int]] = {}
    for channel in ChannelKind:
        variables = renderer.variables(kind, channel)
        used |= variables
        part = {key: facts[key] for key in sorted(variables) if key in facts}
        probe = Message(id="check", kind=kind, channel=channel, recipient="-", context=part,
                        dedupe_key=dedupe_key(event_id, channel))
        sliced[channel] = (part, renderer.render(probe).template_version)
    unknown = facts.keys() - used
    if unknown:
        raise ContextRejected(str(kind), unknown=unknown)
    return sliced


async def enqueue(
    db: AsyncSession,
    *,
    event_id: str,
    kind: Kind,
    party_id: int,
    context: Mapping[str, object],
    renderer: Renderer,
    now: datetime | None = None,
    link: str | None = None,
    preferences: Preferences | None = None,
) -> list[int]:
    """Write the party's messages for one event, in the caller's transaction.

    ``link`` is the portal page the event is about (a path such as ``/mailbox/<id>``): the
    in-portal notice leads there. ``preferences``: the party's, when the caller read them in
    this transaction already (else they are read here). Returns the ids of the rows written;
    empty when the event was enqueued before. Raises ``notifications.TemplateError`` for a
    context the templates refuse.
    """
    if link is not None and not (link.startswith("/") and not link.startswith("//")):
        raise ValueError("a notice links only to a path of the portal")
    kind = Kind(kind)
    sliced = channel_contexts(renderer, event_id=event_id, kind=kind, context=context)
    if preferences is not None:
        if preferences.party_id != party_id:
            raise ValueError("another party's preferences")
        created_at = now or await database_now(db)
    elif now is None:
        preferences, created_at = await get_preferences_and_now(db, party_id)
    else:
        preferences, created_at = await get_preferences(db, party_id), now
    targets = preferences.channels
    rows = [
        {
            "kind": kind.value,
            "channel": channel.value,
            "party_id": party_id,
            "recipient": recipient,
            "context": sliced[channel][0],
            "dedupe_key": dedupe_key(event_id, channel),
            "template_version": sliced[channel][1],
            "link": link,
            "status": DeliveryStatus.CREATED.value,
            "attempts": 0,
            "next_attempt_at": created_at,
            "created_at": created_at,
        }
        for channel, recipient in targets.items()
    ]
    if not rows:
        return []
    # the rows as parameters (one statement, batched by SQLAlchemy), not ``.values(rows)``:
    # a multi-row VALUES clause has no cache key and would be compiled on every call
    written = await db.execute(
        insert_ignoring(db, _MESSAGES, ["dedupe_key"]).returning(_MESSAGES.c.id), rows)
    return sorted(written.scalars())


_UPDATE_CLAIMED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("row_id"))
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        next_attempt_at=bindparam("due"),
        locked_by=bindparam("holder"),
        locked_at=bindparam("held_since"),
        locked_until=bindparam("held_until"),
        last_error=bindparam("error"),
    )
)


# The common case of a claim, one statement for all its rows: due rows leased as they are
# (no lost attempt to count, so attempts and the last error stay).
_LEASE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id.in_(bindparam("row_ids", expanding=True)))
    .values(status=_SENDING, next_attempt_at=bindparam("until"), locked_by=bindparam("holder"),
            locked_at=bindparam("since"), locked_until=bindparam("until"))
)


# Only while the row is still this worker's lease for this attempt: a reclaim changes both.
_RECORD = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("row_id"), _MESSAGES.c.locked_by == bindparam("holder"),
           _MESSAGES.c.attempts == bindparam("before"))
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        next_attempt_at=bindparam("due"),
        last_error=bindparam("error"),
        delivered_at=func.coalesce(bindparam("delivered", type_=UTCDateTime()),
                                   _MESSAGES.c.delivered_at),
        locked_by=None, locked_at=None, locked_until=None,
    )
)


def _row_update(row: Any, status: str, attempts: int, due: datetime | None, *,
                holder: str | None = None, since: datetime | None = None,
                error: str | None = None) -> dict[str, object]:
    return {
        "row_id": row.id, "new_status": status, "new_attempts": attempts, "due": due,
        "holder": holder, "held_since": since, "held_until": due if holder else None,
        "error": error if error is not None else row.last_error,
    }


async def claim_batch(
    db: AsyncSession,
    *,
    worker_id: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    policy: RetryPolicy,
    limits: RateLimits,
) -> Batch:
    """Lease up to ``limit`` due messages to ``worker_id`` until ``now + lease``."""
    due = await db.execute(
        select(_MESSAGES)
        .where(_MESSAGES.c.next_attempt_at <= now, _MESSAGES.c.status.in_(PENDING))
        .order_by(_MESSAGES.c.next_attempt_at, _MESSAGES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = due.all()
    if not rows:
        return Batch()
    outside = Counter(row.party_id for row in rows if row.channel != ChannelKind.INBOX)
    history: SendHistory | None = (
        await load_history(db, limits, now, outside) if outside else None
    )
    leased: list[int] = []
    updates: list[dict[str, object]] = []
    lost: list[dict[str, object]] = []
    claimed: list[ClaimedMessage] = []
    deferred = gave_up = 0
    for row in rows:
        limited = history if row.channel != ChannelKind.INBOX else None
        step = claim(DeliveryStatus(row.status), row.attempts, now=now, lease=lease, policy=policy,
                     limit=limited.decide(row.party_id) if limited is not None else None)
        if step.reclaimed:
            lost.append({
                "message_id": row.id, "attempt_no": step.attempts, "party_id": row.party_id,
                "channel": row.channel, "worker_id": row.locked_by, "started_at": row.locked_at,
                "finished_at": now, "status": DeliveryStatus.TEMPORARY_FAILURE.value,
                "reason": "lease_expired", "detail": _LEASE_EXPIRED_DETAIL,
                "provider_message_id": None,
            })
        if isinstance(step, GiveUp):
            updates.append(_row_update(row, DeliveryStatus.PERMANENT_FAILURE.value, step.attempts,
                                       None, error="attempts_exhausted"))
            gave_up += 1
        elif isinstance(step, Defer):
            updates.append(_row_update(row, step.status.value, step.attempts, step.until))
            deferred += 1
            log.warning("notification rate limit hit; message deferred", extra={
                "job": "notifications", "object": f"outbox:{row.id}", "code": "rate_limited",
                "reason": ",".join(step.scopes)})
        else:
            if limited is not None:
                limited.grant(row.party_id)
            if step.reclaimed:
                updates.append(_row_update(row, _SENDING, step.attempts, step.until,
                                           holder=worker_id, since=now))
            else:
                leased.append(row.id)
            claimed.append(ClaimedMessage(
                id=row.id, kind=Kind(row.kind), channel=ChannelKind(row.channel),
                party_id=row.party_id, recipient=row.recipient, context=row.context,
                dedupe_key=row.dedupe_key, template_version=row.template_version,
                attempt_no=step.attempt_no, lease_until=step.until,
            ))
    if leased:
        await db.execute(_LEASE, {"row_ids": leased, "until": now + lease, "holder": worker_id,
                                  "since": now})
    if updates:
        await db.execute(_UPDATE_CLAIMED, updates)
    if lost:
        await db.execute(insert(_ATTEMPTS), lost)
    return Batch(tuple(claimed), deferred, len(lost), gave_up)


@dataclass(frozen=True)
class Tried:
    """One finished try of a claimed message: what the channel answered, and when."""

    message: ClaimedMessage
    result: DeliveryResult
    started_at: datetime
    finished_at: datetime


async def record_results(
    db: AsyncSession,
    tries: Sequence[Tried],
    *,
    worker_id: str,
    policy: RetryPolicy,
    rng: random.Random,
) -> list[Outcome | None]:
    """Append the attempts and apply their outcomes, one statement of each kind for the batch;
    an outcome is None where the lease was no longer ours."""
    if not tries:
        return []
    outcomes = [policy.outcome(done.message.attempt_no, done.result, done.finished_at, rng)
                for done in tries]
    if db.get_bind().dialect.name == "postgresql":
        return await _record_guarded(db, tries, outcomes, worker_id=worker_id)
    # Lock the rows still leased to us: a reclaim (SKIP LOCKED) cannot take one while we write.
    held = dict((await db.execute(
        select(_MESSAGES.c.id, _MESSAGES.c.attempts)
        .where(_MESSAGES.c.id.in_(sorted({done.message.id for done in tries})),
               _MESSAGES.c.locked_by == worker_id)
        .with_for_update()
    )).all())
    moves: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    answered: list[Outcome | None] = []
    for done, outcome in zip(tries, outcomes, strict=True):
        if held.get(done.message.id) != done.message.attempt_no - 1:  # reclaimed: the new holder recorded it
            _lease_lost(done)
            answered.append(None)
            continue
        moves.append(_move(done, outcome, worker_id))
        rows.append(_attempt_row(done, worker_id))
        answered.append(outcome)
    if moves:
        await db.execute(_RECORD, moves)
        await db.execute(insert(_ATTEMPTS), rows)
    return answered


# PostgreSQL: the batch's moves in one UPDATE whose WHERE is the guard (still our lease, for
# this attempt) and whose RETURNING says which rows were still ours. A row a reclaim holds
# locked makes the UPDATE wait; PostgreSQL then re-checks the WHERE on the reclaimed row, which
# no longer matches (another holder, one more attempt). A reclaim skips a row we hold locked.
_RECORD_MANY = text(
    "UPDATE outbox_messages AS m SET status = v.new_status, attempts = v.new_attempts,"
    " next_attempt_at = v.due, last_error = v.error,"
    " delivered_at = coalesce(v.delivered, m.delivered_at),"
    " locked_by = NULL, locked_at = NULL, locked_until = NULL"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:before AS integer[]), CAST(:statuses AS text[]),"
    " CAST(:attempts AS integer[]), CAST(:dues AS timestamptz[]), CAST(:errors AS text[]),"
    " CAST(:delivered AS timestamptz[]))"
    " AS v(row_id, before, new_status, new_attempts, due, error, delivered)"
    " WHERE m.id = v.row_id AND m.locked_by = :holder AND m.attempts = v.before"
    " RETURNING m.id"
)


async def _record_guarded(db: AsyncSession, tries: Sequence[Tried],
                          outcomes: Sequence[Outcome], *, worker_id: str) -> list[Outcome | None]:
    moves = [_move(done, outcome, worker_id) for done, outcome in zip(tries, outcomes, strict=True)]
    ours = set((await db.execute(_RECORD_MANY, {
        "holder": worker_id,
        "ids": [move["row_id"] for move in moves],
        "before": [move["before"] for move in moves],
        "statuses": [move["new_status"] for move in moves],
        "attempts": [move["new_attempts"] for move in moves],
        "dues": [move["due"] for move in moves],
        "errors": [move["error"] for move in moves],
        "delivered": [move["delivered"] for move in moves],
    })).scalars())
    rows: list[dict[str, object]] = []
    answered: list[Outcome | None] = []
    for done, outcome in zip(tries, outcomes, strict=True):
        if done.message.id not in ours:
            _lease_lost(done)
            answered.append(None)
            continue
        rows.append(_attempt_row(done, worker_id))
        answered.append(outcome)
    if rows:
        await db.execute(insert(_ATTEMPTS), rows)
    return answered


def _lease_lost(done: Tried) -> None:
    log.warning("lease lost before the result was recorded", extra={
        "job": "notifications", "object": f"outbox:{done.message.id}",
        "attempt": done.message.attempt_no, "code": done.result.status.value})


def _move(done: Tried, outcome: Outcome, worker_id: str) -> dict[str, object]:
    message, result = done.message, done.result
    finished = outcome.status in (DeliveryStatus.DELIVERED, DeliveryStatus.PERMANENT_FAILURE)
    return {
        "row_id": message.id, "holder": worker_id, "before": message.attempt_no - 1,
        "new_status": outcome.status.value, "new_attempts": message.attempt_no,
        "due": None if finished else outcome.retry_at,
        "error": "attempts_exhausted" if outcome.gave_up else result.reason,
        "delivered": done.finished_at if outcome.status is DeliveryStatus.DELIVERED else None,
    }


def _attempt_row(done: Tried, worker_id: str) -> dict[str, object]:
    message, result = done.message, done.result
    return {
        "message_id": message.id, "attempt_no": message.attempt_no,
        "party_id": message.party_id, "channel": message.channel.value,
        "worker_id": worker_id, "started_at": done.started_at,
        "finished_at": done.finished_at, "status": result.status.value,
        "reason": result.reason, "detail": result.detail[:200] or None,
        "provider_message_id": result.provider_message_id,
    }


async def release(
    db: AsyncSession, message_ids: Iterable[int], *, worker_id: str, now: datetime
) -> int:
    """Give leased, unsent rows back to the queue, due at once; no attempt is counted."""
    ids = sorted(message_ids)
    if not ids:
        return 0
    waiting = case(
        (_MESSAGES.c.attempts == 0, DeliveryStatus.CREATED.value),
        else_=DeliveryStatus.TEMPORARY_FAILURE.value,
    )
    released = await db.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id.in_(ids), _MESSAGES.c.locked_by == worker_id)
        .values(status=waiting, next_attempt_at=now, locked_by=None, locked_at=None,
                locked_until=None)
    )
    return int(released.rowcount)  # type: ignore[attr-defined]


async def status_counts(db: AsyncSession) -> dict[str, int]:
    """How many messages are in each status (for operators and the benchmark)."""
    rows = await db.execute(
        select(_MESSAGES.c.status, func.count()).group_by(_MESSAGES.c.status)
    )
    return {status: int(count) for status, count in rows}
