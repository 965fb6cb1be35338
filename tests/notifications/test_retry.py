"""The retry policy, mostly as properties (hypothesis).

Proves: a delay is never negative and never above the cap or the attempt's ceiling; the
ceiling starts at `base` and doubles until the cap; the mean delay is half the ceiling (full
jitter) so it grows as expected; a message is tried exactly `max_attempts` times and then
given up as a permanent failure; messages that failed together come back spread out.
"""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications import (
    ChannelUnavailable,
    DeliveryResult,
    DeliveryStatus,
    RecipientRejected,
    RetryPolicy,
)

NOW = datetime(2025, 2, 18, 8, 0, tzinfo=UTC)
TEMPORARY = DeliveryResult.failed(ChannelUnavailable("down"))


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    base = draw(st.integers(min_value=1, max_value=10**9))  # microseconds
    cap = draw(st.integers(min_value=base, max_value=10**12))
    attempts = draw(st.integers(min_value=1, max_value=50))
    return RetryPolicy(timedelta(microseconds=base), timedelta(microseconds=cap), attempts)


@given(policy=policies(), attempt=st.integers(min_value=1, max_value=10**6), seed=st.integers())
def test_delay_is_never_negative_nor_above_cap(policy: RetryPolicy, attempt: int, seed: int) -> None:
    delay = policy.delay(attempt, random.Random(seed))
    assert timedelta(0) <= delay <= policy.ceiling(attempt) <= policy.cap


@given(policy=policies(), attempt=st.integers(min_value=1, max_value=200))
def test_ceiling_doubles_until_the_cap(policy: RetryPolicy, attempt: int) -> None:
    assert policy.ceiling(1) == policy.base
    assert policy.ceiling(attempt + 1) == min(policy.cap, 2 * policy.ceiling(attempt))


@given(policy=policies(), attempt=st.integers(min_value=1, max_value=100), seed=st.integers())
def test_next_attempt_is_within_the_ceiling_from_now(
    policy: RetryPolicy, attempt: int, seed: int
) -> None:
    at = policy.next_attempt_at(attempt, NOW, random.Random(seed))
    assert NOW <= at <= NOW + policy.ceiling(attempt)


def test_mean_delay_is_half_the_ceiling_and_grows() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(hours=1), max_attempts=20)
    rng = random.Random(2025)
    means = []
    for attempt in range(1, 12):
        samples = [policy.delay(attempt, rng).total_seconds() for _ in range(4000)]
        ceiling = policy.ceiling(attempt).total_seconds()
        assert statistics.fmean(samples) == pytest.approx(ceiling / 2, rel=0.05)
        means.append(statistics.fmean(samples))
    # Doubling while below the cap (10 s · 2^8 = 2560 s < 3600 s), flat once capped.
    for earlier, later in itertools.pairwise(means[:9]):
        assert later / earlier == pytest.approx(2, rel=0.1)
    assert means[-1] == pytest.approx(means[-2], rel=0.1)


@given(max_attempts=st.integers(min_value=1, max_value=60), seed=st.integers())
def test_gives_up_exactly_at_the_limit(max_attempts: int, seed: int) -> None:
    policy = RetryPolicy(max_attempts=max_attempts)
    rng, now, attempts = random.Random(seed), NOW, 0
    while True:
        attempts += 1
        outcome = policy.outcome(attempts, TEMPORARY, now, rng)
        if outcome.retry_at is None:
            break
        assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE
        assert outcome.retry_at >= now
        now = outcome.retry_at
    assert attempts == max_attempts
    assert outcome.status is DeliveryStatus.PERMANENT_FAILURE and outcome.gave_up
    assert [policy.should_give_up(n) for n in range(1, max_attempts + 1)] == (
        [False] * (max_attempts - 1) + [True]
    )


def test_outcome_of_delivered_and_permanent_results() -> None:
    policy, rng = RetryPolicy(), random.Random(1)
    delivered = policy.outcome(3, DeliveryResult.delivered("id"), NOW, rng)
    assert delivered.status is DeliveryStatus.DELIVERED and delivered.retry_at is None
    rejected = policy.outcome(1, DeliveryResult.failed(RecipientRejected("no")), NOW, rng)
    assert rejected.status is DeliveryStatus.PERMANENT_FAILURE and not rejected.gave_up


def test_messages_failing_together_come_back_spread_out() -> None:
    policy, rng = RetryPolicy(), random.Random(3)
    retries = {policy.next_attempt_at(4, NOW, rng) for _ in range(200)}
    assert len(retries) > 195  # no wave of identical retry times


def test_invalid_parameters_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(base=timedelta(0))
    with pytest.raises(ValueError):
        RetryPolicy(base=timedelta(minutes=2), cap=timedelta(minutes=1))
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy().ceiling(0)
    with pytest.raises(ValueError):
        RetryPolicy().next_attempt_at(1, datetime(2025, 2, 18, 8, 0), random.Random(1))
