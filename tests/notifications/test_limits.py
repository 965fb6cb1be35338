"""The rate-limit decision: per party and global, from send instants the caller supplies.

Proves: a send is allowed exactly while fewer than `max_count` sends fall in the window; the
`retry_at` it names is the earliest instant that is true again (minimal and sufficient); only
the newest `max_count` instants matter, so the portal's query can be bounded; both limits are
applied and reported; and a faulty integration firing a thousand events at one party gets at
most the per-party limit through in any hour (anti-automation, v5.0.0-2.4.1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications import LimitScope, RateLimit, RateLimits, check_limits

NOW = datetime(2025, 2, 18, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def instants(window: timedelta) -> st.SearchStrategy[list[datetime]]:
    offsets = st.integers(min_value=-2 * window // timedelta(seconds=1), max_value=5)
    return st.lists(offsets.map(lambda seconds: NOW + timedelta(seconds=seconds)), max_size=40)


@given(max_count=st.integers(min_value=1, max_value=10), recent=instants(HOUR))
def test_allowed_exactly_while_the_window_has_room(max_count: int, recent: list[datetime]) -> None:
    limit = RateLimit(max_count, HOUR)
    in_window = [moment for moment in recent if moment > NOW - HOUR]
    assert (limit.available_at(recent, NOW) is None) == (len(in_window) < max_count)


@given(max_count=st.integers(min_value=1, max_value=10), recent=instants(HOUR))
def test_retry_at_is_the_earliest_instant_with_room(
    max_count: int, recent: list[datetime]
) -> None:
    limit = RateLimit(max_count, HOUR)
    retry_at = limit.available_at(recent, NOW)
    if retry_at is None:
        return
    assert retry_at > NOW
    assert limit.available_at(recent, retry_at) is None
    assert limit.available_at(recent, retry_at - timedelta(microseconds=1)) is not None


@given(max_count=st.integers(min_value=1, max_value=10), recent=instants(HOUR))
def test_only_the_newest_max_count_instants_matter(max_count: int, recent: list[datetime]) -> None:
    limit = RateLimit(max_count, HOUR)
    newest = sorted(recent, reverse=True)[:max_count]
    assert limit.available_at(newest, NOW) == limit.available_at(recent, NOW)


def test_both_limits_apply_and_the_later_retry_wins() -> None:
    limits = RateLimits(
        per_party=RateLimit(2, HOUR), overall=RateLimit(3, timedelta(minutes=1))
    )
    party = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    busy = [NOW - timedelta(seconds=s) for s in (50, 30, 10)]
    decision = check_limits(limits, party_sends=party, global_sends=busy, now=NOW)
    assert not decision.allowed
    assert decision.scopes == (LimitScope.PARTY, LimitScope.GLOBAL)
    assert decision.retry_at == NOW + timedelta(minutes=10)  # party frees at 08:10

    only_global = check_limits(limits, party_sends=[], global_sends=busy, now=NOW)
    assert only_global.scopes == (LimitScope.GLOBAL,)
    assert only_global.retry_at == NOW + timedelta(seconds=10)

    assert check_limits(limits, party_sends=party[:1], global_sends=busy[:2], now=NOW).allowed


def test_boundary_instant_has_left_the_window() -> None:
    limit = RateLimit(1, HOUR)
    assert limit.available_at([NOW - HOUR], NOW) is None
    assert limit.available_at([NOW - HOUR + timedelta(microseconds=1)], NOW) is not None


def test_a_flooding_integration_cannot_flood_a_party() -> None:
    """1000 events for one party in a minute; a worker deferring by the decision sends ≤ 20/h."""
    limits = RateLimits()
    pending = [NOW + timedelta(milliseconds=60 * n) for n in range(1000)]
    sent: list[datetime] = []
    clock = NOW
    while pending and clock < NOW + timedelta(hours=3):
        decision = check_limits(limits, party_sends=sent, global_sends=sent, now=clock)
        if decision.allowed:
            sent.append(clock)
            pending.pop(0)
        else:
            assert decision.retry_at is not None and decision.retry_at > clock
            clock = decision.retry_at
    for start in sent:
        assert sum(start <= moment < start + HOUR for moment in sent) <= 20
    assert len(sent) == 60  # three hours at 20 an hour: deferred, not lost


def test_naive_instants_and_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        check_limits(RateLimits(), party_sends=[datetime(2025, 2, 18, 8)], global_sends=[], now=NOW)
    with pytest.raises(ValueError):
        check_limits(RateLimits(), party_sends=[], global_sends=[], now=datetime(2025, 2, 18))
    with pytest.raises(ValueError):
        RateLimit(0, HOUR)
    with pytest.raises(ValueError):
        RateLimit(1, timedelta(0))
