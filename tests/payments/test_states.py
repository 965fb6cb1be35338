"""The payment-order state machine, checked over every (state, event) pair.

The expected outcome of each pair is written out below by hand, independently of
`payments.states.TABLE`: a changed state, a no-op (the event's own state, i.e. a repeated
status), or a refusal. Refusals raise `IllegalTransition` carrying both names for the log.
"""

from __future__ import annotations

import itertools
import logging

import pytest

from payments import IllegalTransition, OrderEvent, OrderState, transition
from payments.states import TABLE, TARGET

S, E = OrderState, OrderEvent
NOOP = "no-op"

# Rows: current state. Columns: the event. Value: new state, NOOP, or None (refused).
EXPECTED: dict[OrderState, dict[OrderEvent, OrderState | str | None]] = {
    S.CREATED: {
        E.SUBMITTED: S.PENDING,
        E.PAID: S.PAID,
        E.PAYMENT_FAILED: S.FAILED,
        E.EXPIRED: S.EXPIRED,
        E.CLOSED: S.CLOSED,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.PENDING: {
        E.SUBMITTED: NOOP,
        E.PAID: S.PAID,
        E.PAYMENT_FAILED: S.FAILED,
        E.EXPIRED: S.EXPIRED,
        E.CLOSED: S.CLOSED,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.FAILED: {
        E.SUBMITTED: None,
        E.PAID: S.PAID,
        E.PAYMENT_FAILED: NOOP,
        E.EXPIRED: S.EXPIRED,
        E.CLOSED: S.CLOSED,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.EXPIRED: {
        E.SUBMITTED: None,
        E.PAID: S.PAID,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: NOOP,
        E.CLOSED: S.CLOSED,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.CLOSED: {
        E.SUBMITTED: None,
        E.PAID: None,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: None,
        E.CLOSED: NOOP,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.PAID: {
        E.SUBMITTED: None,
        E.PAID: NOOP,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: None,
        E.CLOSED: None,
        E.REFUND_REQUESTED: S.REFUND_PENDING,
        E.REFUNDED: None,
        E.REFUND_FAILED: None,
    },
    S.REFUND_PENDING: {
        E.SUBMITTED: None,
        E.PAID: None,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: None,
        E.CLOSED: None,
        E.REFUND_REQUESTED: NOOP,
        E.REFUNDED: S.REFUNDED,
        E.REFUND_FAILED: S.REFUND_FAILED,
    },
    S.REFUND_FAILED: {
        E.SUBMITTED: None,
        E.PAID: None,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: None,
        E.CLOSED: None,
        E.REFUND_REQUESTED: S.REFUND_PENDING,
        E.REFUNDED: None,
        E.REFUND_FAILED: NOOP,
    },
    S.REFUNDED: {
        E.SUBMITTED: None,
        E.PAID: None,
        E.PAYMENT_FAILED: None,
        E.EXPIRED: None,
        E.CLOSED: None,
        E.REFUND_REQUESTED: None,
        E.REFUNDED: NOOP,
        E.REFUND_FAILED: None,
    },
}


def test_the_expectation_covers_every_pair() -> None:
    assert set(EXPECTED) == set(OrderState)
    assert all(set(row) == set(OrderEvent) for row in EXPECTED.values())


@pytest.mark.parametrize(("state", "event"), list(itertools.product(OrderState, OrderEvent)))
def test_every_pair(state: OrderState, event: OrderEvent) -> None:
    expected = EXPECTED[state][event]
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            transition(state, event)
        assert (refused.value.state, refused.value.event) == (state.value, event.value)
        assert state.value in str(refused.value) and event.value in str(refused.value)
    elif expected == NOOP:
        result = transition(state, event)
        assert (result.state, result.changed) == (state, False)
    else:
        result = transition(state, event)
        assert (result.state, result.changed) == (expected, True)


def test_a_repeated_status_is_a_no_op_in_every_state_it_names() -> None:
    for event, target in TARGET.items():
        result = transition(target, event)
        assert (result.state, result.changed) == (target, False)


def test_the_table_only_holds_real_changes() -> None:
    assert all(TARGET[event] != state for state, event in TABLE)


def test_every_state_is_reachable_from_created() -> None:
    reached, frontier = {S.CREATED}, [S.CREATED]
    while frontier:
        state = frontier.pop()
        for event in OrderEvent:
            try:
                new = transition(state, event).state
            except IllegalTransition:
                continue
            if new not in reached:
                reached.add(new)
                frontier.append(new)
    assert reached == set(OrderState)


def test_closed_and_refunded_are_final() -> None:
    for state in (S.CLOSED, S.REFUNDED):
        for event in OrderEvent:
            try:
                assert transition(state, event).changed is False
            except IllegalTransition:
                pass


def test_a_late_payment_notice_on_an_expired_order_is_still_money_received() -> None:
    # The portal expires its order at 24:00; a payment made before then may be reported later.
    assert transition(S.EXPIRED, E.PAID).state is S.PAID


def test_an_out_of_order_pending_notice_after_payment_is_refused_and_logged(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="payments.states"), pytest.raises(IllegalTransition):
        transition(S.PAID, E.SUBMITTED)
    assert caplog.messages == ["payment order: illegal transition refused: event submitted in state paid"]
