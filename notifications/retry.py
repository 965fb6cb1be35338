"""When to try a message again: exponential back-off with full jitter, up to a limit.

After failed attempt n the wait is drawn uniformly from [0, min(cap, base·2^(n-1))] ("full
jitter", as in the AWS architecture blog's "Exponential Backoff And Jitter"): the ceiling
doubles so a long outage is not hammered, and the randomness spreads the retries of many
messages that failed together (an SMTP server that was down) so they do not return as one
wave. After `max_attempts` attempts a temporarily failing message is given up and marked a
permanent failure.

Everything here is a pure function of its arguments: the worker passes the attempt number from
the outbox row, the current time and a random source, and stores the answer. Attempt numbers
count from 1 (the first try).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifications.channels.base import DeliveryResult, DeliveryStatus

__all__ = ["Outcome", "RetryPolicy"]

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Outcome:
    """What the outbox row becomes after an attempt.

    `retry_at` is set only for a temporary failure that will be tried again; `gave_up` tells a
    permanent failure reached by running out of attempts from one the channel reported.
    """

    status: DeliveryStatus
    retry_at: datetime | None = None
    gave_up: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off parameters; the defaults spread about 12 attempts over roughly half a day."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=6)
    max_attempts: int = 12

    def __post_init__(self) -> None:
        if self.base < _MICROSECOND:
            raise ValueError("base must be at least one microsecond")
        if self.cap < self.base:
            raise ValueError("cap must not be below base")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def ceiling(self, attempt_no: int) -> timedelta:
        """The longest wait after failed attempt `attempt_no`: base·2^(n-1), at most `cap`."""
        _check_attempt(attempt_no)
        base, cap = self.base // _MICROSECOND, self.cap // _MICROSECOND
        # Past cap.bit_length() doublings the cap binds anyway; bounding the shift keeps huge
        # attempt numbers cheap.
        shift = min(attempt_no - 1, cap.bit_length())
        return timedelta(microseconds=min(cap, base << shift))

    def delay(self, attempt_no: int, rng: random.Random) -> timedelta:
        """A wait drawn uniformly from [0, ceiling(attempt_no)], to the microsecond."""
        return timedelta(microseconds=rng.randint(0, self.ceiling(attempt_no) // _MICROSECOND))

    def should_give_up(self, attempt_no: int) -> bool:
        """Whether no attempt may follow attempt `attempt_no`."""
        _check_attempt(attempt_no)
        return attempt_no >= self.max_attempts

    def next_attempt_at(self, attempt_no: int, now: datetime, rng: random.Random) -> datetime:
        """When to try again after failed attempt `attempt_no`; `now` must be aware."""
        if now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return now + self.delay(attempt_no, rng)

    def outcome(
        self, attempt_no: int, result: DeliveryResult, now: datetime, rng: random.Random
    ) -> Outcome:
        """The outbox row's next state after attempt `attempt_no` ended in `result`."""
        if result.status is DeliveryStatus.DELIVERED:
            return Outcome(DeliveryStatus.DELIVERED)
        if result.status is DeliveryStatus.PERMANENT_FAILURE:
            return Outcome(DeliveryStatus.PERMANENT_FAILURE)
        if self.should_give_up(attempt_no):
            return Outcome(DeliveryStatus.PERMANENT_FAILURE, gave_up=True)
        return Outcome(
            DeliveryStatus.TEMPORARY_FAILURE, retry_at=self.next_attempt_at(attempt_no, now, rng)
        )


def _check_attempt(attempt_no: int) -> None:
    if attempt_no < 1:
        raise ValueError("attempt numbers start at 1")
