"""The send history that the notification rate limits are decided on.

`notifications.check_limits` is a pure sliding-window decision over send instants; this module
reads those instants from the database for one claim: attempts on outside channels in the
window (failed ones too: a flood of failing sends still costs the gateway and the party), plus
messages other workers hold in flight right now (claimed, not yet recorded), plus what this
claim has granted so far. The in-portal notice is not limited: it costs nothing outside and is
where the party reads what happened anyway.

Workers run side by side, so two claims could each see room for the same last send. On
PostgreSQL a claim that touches an outside channel therefore takes one transaction-scoped
advisory lock before it reads the history, and holds it until it commits its grants: the
decisions serialise, the sending does not. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import ChannelKind, LimitDecision, RateLimits, check_limits
from portal.models.outbox import OutboxAttempt, OutboxMessage

# pg_advisory_xact_lock(classid, objid): an arbitrary class for "notification send limits".
_LOCK_CLASS, _LOCK_OBJECT = 0x4E4F54, 1
_INBOX = ChannelKind.INBOX.value


class SendHistory:
    """Recent outside-channel sends, overall and per party, as one claim sees them."""

    def __init__(
        self,
        limits: RateLimits,
        now: datetime,
        overall: list[datetime],
        by_party: dict[int, list[datetime]],
    ) -> None:
        self.limits = limits
        self.now = now
        self._overall = overall
        self._by_party = by_party

    def decide(self, party_id: int) -> LimitDecision:
        """Whether one more send to this party fits both limits now."""
        return check_limits(
            self.limits,
            party_sends=self._by_party.get(party_id, ()),
            global_sends=self._overall,
            now=self.now,
        )

    def grant(self, party_id: int) -> None:
        """Count a send this claim is about to hand out."""
        self._overall.append(self.now)
        self._by_party.setdefault(party_id, []).append(self.now)


async def load_history(
    db: AsyncSession, limits: RateLimits, now: datetime, party_ids: Iterable[int]
) -> SendHistory:
    """Lock the limit decision (PostgreSQL) and read the sends that count against it."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :obj)"),
            {"cls": _LOCK_CLASS, "obj": _LOCK_OBJECT},
        )
    wanted = set(party_ids)
    overall_start = now - limits.overall.window
    party_start = now - limits.per_party.window
    attempts = OutboxAttempt.__table__.c
    messages = OutboxMessage.__table__.c
    # Only the newest max_count sends can decide the overall limit; the query stays bounded.
    overall = list(
        (
            await db.execute(
                select(attempts.started_at)
                .where(attempts.channel != _INBOX, attempts.started_at > overall_start)
                .order_by(attempts.started_at.desc())
                .limit(limits.overall.max_count)
            )
        ).scalars()
    )
    by_party: dict[int, list[datetime]] = {}
    if wanted:
        rows = await db.execute(
            select(attempts.party_id, attempts.started_at).where(
                attempts.party_id.in_(sorted(wanted)),
                attempts.channel != _INBOX,
                attempts.started_at > party_start,
            )
        )
        for party_id, started_at in rows:
            by_party.setdefault(party_id, []).append(started_at)
    in_flight = await db.execute(
        select(messages.party_id, messages.locked_at).where(
            messages.status == "sending",
            messages.channel != _INBOX,
            messages.locked_at > min(overall_start, party_start),
        )
    )
    for party_id, locked_at in in_flight:
        if locked_at > overall_start:
            overall.append(locked_at)
        if party_id in wanted and locked_at > party_start:
            by_party.setdefault(party_id, []).append(locked_at)
    return SendHistory(limits, now, overall, by_party)
