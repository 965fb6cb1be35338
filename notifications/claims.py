"""What a worker's claim does with one due outbox row: lease it, defer it, or give it up.

The portal selects the due rows (``created``, ``temporary-failure``, or ``sending`` with a
lease that ran out) and asks `claim` about each, with the rate-limit decision for the row's
party when its channel is limited. The rule, in order:

1. a row still ``sending`` was leased to a worker that died or stalled past its lease: that
   attempt counts (it may have reached the channel, and a message that kills every worker
   must not go round for ever) and is recorded as lost; when it was the last attempt the
   policy allows, the row is given up as a permanent failure;
2. a send the rate limits refuse is deferred to the instant they name, in the status it waited
   in (``created`` while no attempt has counted, else ``temporary-failure``), without counting
   an attempt;
3. anything else is leased to the claiming worker as ``sending`` until ``now + lease``, for
   attempt number ``attempts + 1``.

A pure function of values, as `RetryPolicy.outcome` is for the end of an attempt: the portal
reads the row, calls, and writes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifications.channels.base import DeliveryStatus
from notifications.limits import LimitDecision, LimitScope
from notifications.retry import RetryPolicy

__all__ = ["Claim", "Defer", "GiveUp", "Lease", "claim"]

_DUE = frozenset({DeliveryStatus.CREATED, DeliveryStatus.TEMPORARY_FAILURE, DeliveryStatus.SENDING})


@dataclass(frozen=True)
class Lease:
    """Hand the row to the claiming worker until ``until``, for attempt ``attempts + 1``."""

    attempts: int
    until: datetime
    reclaimed: bool = False
    """An expired lease's attempt was counted in ``attempts`` (record it as lost)."""

    @property
    def attempt_no(self) -> int:
        return self.attempts + 1


@dataclass(frozen=True)
class Defer:
    """The rate limits refused the send: the row waits in ``status`` until ``until``."""

    status: DeliveryStatus
    attempts: int
    until: datetime | None
    scopes: tuple[LimitScope, ...]
    reclaimed: bool = False


@dataclass(frozen=True)
class GiveUp:
    """An expired lease was the last attempt allowed: a permanent failure, tried no more."""

    attempts: int
    reclaimed: bool = True


Claim = Lease | Defer | GiveUp


def claim(status: DeliveryStatus, attempts: int, *, now: datetime, lease: timedelta,
          policy: RetryPolicy, limit: LimitDecision | None = None) -> Claim:
    """The claim of a due row in ``status`` after ``attempts`` counted attempts.

    ``limit`` is the rate-limit decision for one more send to the row's party now; None when
    the row's channel is not limited (the in-portal notice). Raises ``ValueError`` for a row
    that is not waiting to be sent (delivered or given up) or a negative attempt count.
    """
    if status not in _DUE:
        raise ValueError(f"a {status.value} message is not due for sending")
    if attempts < 0:
        raise ValueError("attempts cannot be negative")
    reclaimed = status is DeliveryStatus.SENDING
    if reclaimed:
        attempts += 1
        if policy.should_give_up(attempts):
            return GiveUp(attempts)
    if limit is not None and not limit.allowed:
        waiting = DeliveryStatus.CREATED if attempts == 0 else DeliveryStatus.TEMPORARY_FAILURE
        return Defer(waiting, attempts, limit.retry_at, limit.scopes, reclaimed)
    return Lease(attempts, now + lease, reclaimed)
