"""The send history that the notification rate limits are decided on.

`notifications.check_limits` is a pure sliding-window decision over send instants; this module
reads those instants from the database for one claim: attempts on outside channels in the
window (failed ones too: a flood of failing sends still costs the gateway and the party), plus
messages other workers hold in flight right now (claimed, not yet recorded), plus what this
claim has granted so far. The in-portal notice is not limited: it costs nothing outside and is
where the party reads what happened anyway.

Only the counts are read on every claim; the instants themselves (the newest ``max_count``
of a scope, all that can matter) only for a scope that this claim could push to its limit, so
a busy outbox does not read its whole last hour for every batch.

Workers run side by side, so two claims could each see room for the same last send. On
PostgreSQL a claim that touches an outside channel therefore takes one transaction-scoped
advisory lock before it reads the history, and holds it until it commits its grants: the
decisions serialise, the sending does not. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import ChannelKind, LimitDecision, RateLimit, RateLimits, check_limits
from portal.database import advisory_lock
from portal.models.outbox import OutboxAttempt, OutboxMessage

# An arbitrary advisory lock namespace for "notification send limits".
_LOCK_NAMESPACE = 0x4E4F54
_INBOX = ChannelKind.INBOX.value
_ATTEMPTS = OutboxAttempt.__table__.c
_MESSAGES = OutboxMessage.__table__.c


@dataclass
class _Scope:
    """Sends in one scope's window: how many, and (near the limit) when."""

    count: int
    recent: list[datetime] | None = None


class SendHistory:
    """Recent outside-channel sends, overall and per party, as one claim sees them."""

    def __init__(self, limits: RateLimits, now: datetime, overall: _Scope,
                 by_party: dict[int, _Scope]) -> None:
        self.limits = limits
        self.now = now
        self._overall = overall
        self._by_party = by_party

    def decide(self, party_id: int) -> LimitDecision:
        """Whether one more send to this party fits both limits now."""
        party = self._by_party.setdefault(party_id, _Scope(0, []))
        if (self._overall.count < self.limits.overall.max_count
                and party.count < self.limits.per_party.max_count):
            return LimitDecision(allowed=True)
        # At a limit: the instants were loaded (see load_history), and decide when it frees up.
        return check_limits(self.limits, party_sends=party.recent or [],
                            global_sends=self._overall.recent or [], now=self.now)

    def grant(self, party_id: int) -> None:
        """Count a send this claim is about to hand out."""
        for scope in (self._overall, self._by_party.setdefault(party_id, _Scope(0, []))):
            scope.count += 1
            if scope.recent is not None:
                scope.recent.append(self.now)


_FLYING, _OVERALL, _PARTY = 0, 1, 2
_HISTORY = union_all(
    select(literal_column(str(_FLYING)).label("what"), _MESSAGES.party_id,
           _MESSAGES.locked_at.label("at"), literal_column("0").label("count"))
    .where(_MESSAGES.status == "sending", _MESSAGES.channel != _INBOX,
           _MESSAGES.locked_at > bindparam("since")),
    select(literal_column(str(_OVERALL)), null(), null(), func.count())
    .where(_ATTEMPTS.channel != _INBOX, _ATTEMPTS.started_at > bindparam("overall_start")),
    select(literal_column(str(_PARTY)), _ATTEMPTS.party_id, null(), func.count())
    .where(_ATTEMPTS.party_id.in_(bindparam("parties", expanding=True)),
           _ATTEMPTS.channel != _INBOX, _ATTEMPTS.started_at > bindparam("party_start"))
    .group_by(_ATTEMPTS.party_id),
)
"""What counts against the limits now, in one statement: each message in flight (claimed, not
yet recorded) with when it was claimed, the outside-channel attempts in the overall window,
and those of each candidate party in the per-party window."""


async def _newest(db: AsyncSession, limit: RateLimit, start: datetime,
                  *where: ColumnElement[bool]) -> list[datetime]:
    """The newest ``max_count`` attempt instants in the window: all that can decide."""
    rows = await db.execute(
        select(_ATTEMPTS.started_at)
        .where(_ATTEMPTS.channel != _INBOX, _ATTEMPTS.started_at > start, *where)
        .order_by(_ATTEMPTS.started_at.desc())
        .limit(limit.max_count)
    )
    return list(rows.scalars())


async def load_history(
    db: AsyncSession, limits: RateLimits, now: datetime, candidates: Mapping[int, int]
) -> SendHistory:
    """Lock the limit decision (PostgreSQL) and read the sends that count against it.

    ``candidates`` maps each party to the number of outside-channel messages this claim might
    grant it.
    """
    await advisory_lock(db, _LOCK_NAMESPACE, "send limits")
    overall_start = now - limits.overall.window
    party_start = now - limits.per_party.window
    parties = sorted(candidates)
    # One statement, not three: the claim holds the lock above until it commits, so every
    # round trip taken here is one the other workers' claims wait for.
    flying_party: dict[int, list[datetime]] = {}
    flying_overall: list[datetime] = []
    overall_count = 0
    counts: Counter[int] = Counter()
    for what, party_id, at, count in await db.execute(
        _HISTORY, {"since": min(overall_start, party_start), "overall_start": overall_start,
                   "party_start": party_start, "parties": parties}
    ):
        if what == _FLYING:
            # Claimed by other workers and not yet recorded: about to reach a channel.
            if at > overall_start:
                flying_overall.append(at)
            if party_id in candidates and at > party_start:
                flying_party.setdefault(party_id, []).append(at)
        elif what == _OVERALL:
            overall_count = count
        else:
            counts[party_id] += count
    overall_count += len(flying_overall)
    overall = _Scope(overall_count)
    if overall_count + sum(candidates.values()) >= limits.overall.max_count:
        overall.recent = await _newest(db, limits.overall, overall_start) + flying_overall

    for party_id, at in flying_party.items():
        counts[party_id] += len(at)
    by_party = {}
    for party_id in parties:
        scope = _Scope(counts[party_id])
        if scope.count + candidates[party_id] >= limits.per_party.max_count:
            scope.recent = await _newest(db, limits.per_party, party_start,
                                         _ATTEMPTS.party_id == party_id)
            scope.recent += flying_party.get(party_id, [])
        by_party[party_id] = scope
    return SendHistory(limits, now, overall, by_party)
