"""An outbox row's claim, as properties (hypothesis).

Proves: a row the rate limits refuse is never leased and waits, without an attempt counted,
until the instant they name, in ``created`` until an attempt has counted (SECURITY.md,
logging: v5.0.0-16.3.3 for the hit the portal logs); an expired lease's attempt counts and is
the only way a claim counts one; a message that kills every worker that takes it is given up
after exactly ``max_attempts`` attempts and never leased beyond that number; a lease runs
from now for the lease length; rows that are not waiting to be sent cannot be claimed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications import (
    Defer,
    DeliveryStatus,
    GiveUp,
    Lease,
    LimitDecision,
    LimitScope,
    RetryPolicy,
    claim,
)

NOW = datetime(2025, 2, 18, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
DUE = [DeliveryStatus.CREATED, DeliveryStatus.TEMPORARY_FAILURE, DeliveryStatus.SENDING]

policies = st.integers(min_value=1, max_value=30).map(lambda n: RetryPolicy(max_attempts=n))
refusals = st.builds(
    LimitDecision,
    allowed=st.just(False),
    retry_at=st.integers(min_value=1, max_value=3600).map(lambda s: NOW + timedelta(seconds=s)),
    scopes=st.lists(st.sampled_from(LimitScope), min_size=1, max_size=2, unique=True).map(tuple),
)
limits = st.one_of(st.none(), st.just(LimitDecision(allowed=True)), refusals)


@st.composite
def rows(draw: st.DrawFn) -> tuple[RetryPolicy, DeliveryStatus, int]:
    """A due row as the outbox can hold it: fewer attempts than the policy allows, none yet
    while ``created``, and at least one behind a ``temporary-failure``."""
    policy = draw(policies)
    status = draw(st.sampled_from(DUE))
    low = 1 if status is DeliveryStatus.TEMPORARY_FAILURE else 0
    high = 0 if status is DeliveryStatus.CREATED else policy.max_attempts - 1
    if low > high:
        status, low, high = DeliveryStatus.SENDING, 0, 0
    return policy, status, draw(st.integers(min_value=low, max_value=high))


@given(rows(), limits)
def test_only_an_expired_lease_counts_an_attempt_and_it_is_recorded(row, limit) -> None:
    policy, status, attempts = row
    step = claim(status, attempts, now=NOW, lease=LEASE, policy=policy, limit=limit)
    expired = status is DeliveryStatus.SENDING
    assert step.reclaimed is expired
    assert step.attempts == attempts + expired


@given(rows(), refusals)
def test_a_refused_send_is_deferred_to_when_the_limits_free_up_never_leased(row, limit) -> None:
    policy, status, attempts = row
    step = claim(status, attempts, now=NOW, lease=LEASE, policy=policy, limit=limit)
    if isinstance(step, GiveUp):  # the expired lease was the last attempt: the limit is moot
        assert status is DeliveryStatus.SENDING and step.attempts == policy.max_attempts
        return
    assert isinstance(step, Defer)
    assert (step.until, step.scopes) == (limit.retry_at, limit.scopes)
    assert step.status is (DeliveryStatus.CREATED if step.attempts == 0 else DeliveryStatus.TEMPORARY_FAILURE)


@given(rows(), st.sampled_from([None, LimitDecision(allowed=True)]))
def test_an_allowed_send_is_leased_from_now_for_the_next_attempt(row, limit) -> None:
    policy, status, attempts = row
    step = claim(status, attempts, now=NOW, lease=LEASE, policy=policy, limit=limit)
    if isinstance(step, GiveUp):
        assert status is DeliveryStatus.SENDING and step.attempts == policy.max_attempts
        return
    assert isinstance(step, Lease)
    assert step.until == NOW + LEASE
    assert 1 <= step.attempt_no == step.attempts + 1 <= policy.max_attempts


@given(policies, limits)
def test_a_message_that_kills_every_worker_is_given_up_after_max_attempts(policy, limit) -> None:
    status, attempts, leased = DeliveryStatus.CREATED, 0, 0
    while True:
        step = claim(status, attempts, now=NOW, lease=LEASE, policy=policy, limit=limit)
        if isinstance(step, GiveUp):
            break
        if isinstance(step, Lease):  # the worker dies holding it: the lease runs out
            leased += 1
            status = DeliveryStatus.SENDING
        else:  # deferred, then allowed later
            status, limit = step.status, None
        attempts = step.attempts
    assert step.attempts == leased == policy.max_attempts


@pytest.mark.parametrize("status", [DeliveryStatus.DELIVERED, DeliveryStatus.PERMANENT_FAILURE])
def test_a_finished_message_cannot_be_claimed(status: DeliveryStatus) -> None:
    with pytest.raises(ValueError, match="not due"):
        claim(status, 1, now=NOW, lease=LEASE, policy=RetryPolicy())


def test_a_negative_attempt_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        claim(DeliveryStatus.CREATED, -1, now=NOW, lease=LEASE, policy=RetryPolicy())
