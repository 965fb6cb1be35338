"""Rate limits on notifications, decided from send times the caller reads from its database.

A faulty agency integration must not flood a party with SMS or e-mail, nor the gateways with
everyone's: so there is a per-party limit (default 20 an hour) and a global one (default 600 a
minute). The decision is a pure function of recent send instants, a sliding-window log, so the
portal can make it inside the worker's transaction, with the rows it already locked, and any
number of workers agree because the state is in the database, not in a process.

Only the newest `max_count` instants of a scope can matter, so the portal's query is bounded:

    SELECT attempted_at FROM notification_attempt
    WHERE party_id = :party AND channel <> 'inbox'
    ORDER BY attempted_at DESC LIMIT :max_count

Count attempts that reached an outside channel, failed ones included: a flood of failing sends
still costs the gateway and the party. When a send is refused, defer the message to `retry_at`
without counting an attempt, and log the hit (SECURITY.md, logging: v5.0.0-16.3.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["LimitDecision", "LimitScope", "RateLimit", "RateLimits", "check_limits"]


class LimitScope(StrEnum):
    """Which limit refused a send."""

    PARTY = "party"
    GLOBAL = "global"


@dataclass(frozen=True)
class RateLimit:
    """At most `max_count` sends in any window of length `window`."""

    max_count: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.max_count < 1:
            raise ValueError("max_count must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")

    def available_at(self, recent: Iterable[datetime], now: datetime) -> datetime | None:
        """None if one more send fits now; otherwise the first instant it will.

        `recent` are the instants of earlier sends in this scope, in any order; only those in
        the window ending at `now` count (later ones, from a skewed clock, count too).
        """
        start = now - self.window
        in_window = sorted(moment for moment in _aware(recent) if moment > start)
        if len(in_window) < self.max_count:
            return None
        # One more fits once all but max_count - 1 of them have left the window; the one
        # that must leave last is this one, and it leaves `window` after it was sent.
        return in_window[len(in_window) - self.max_count] + self.window


@dataclass(frozen=True)
class RateLimits:
    """The per-party and the global limit, as the portal's settings give them."""

    per_party: RateLimit = RateLimit(max_count=20, window=timedelta(hours=1))
    overall: RateLimit = RateLimit(max_count=600, window=timedelta(minutes=1))


@dataclass(frozen=True)
class LimitDecision:
    """Whether a send may go now; if not, which limits refused it and when to look again."""

    allowed: bool
    retry_at: datetime | None = None
    scopes: tuple[LimitScope, ...] = ()


def check_limits(
    limits: RateLimits,
    *,
    party_sends: Iterable[datetime],
    global_sends: Iterable[datetime],
    now: datetime,
) -> LimitDecision:
    """Decide one send against both limits.

    `retry_at` is the later of the instants the refusing limits free up; other sends may take
    the room first, so the caller checks again then rather than sending blindly.
    """
    _aware([now])
    refusals = {
        scope: moment
        for scope, moment in (
            (LimitScope.PARTY, limits.per_party.available_at(party_sends, now)),
            (LimitScope.GLOBAL, limits.overall.available_at(global_sends, now)),
        )
        if moment is not None
    }
    if not refusals:
        return LimitDecision(allowed=True)
    return LimitDecision(allowed=False, retry_at=max(refusals.values()), scopes=tuple(refusals))


def _aware(moments: Iterable[datetime]) -> list[datetime]:
    """The instants as a list, refusing naive ones: comparing them with aware ones is a bug."""
    checked = list(moments)
    if any(moment.utcoffset() is None for moment in checked):
        raise ValueError("send instants must be timezone-aware")
    return checked
