"""The payment order's state machine: one transition table, the single source of truth.

A payment order is the portal's request to a payment platform to collect one amount for one
payment code. Its life:

```
created ─submitted─▶ pending ─paid─▶ paid ─refund_requested─▶ refund_pending ─refunded─▶ refunded
                       │                                         │       ▲
                       ├─payment_failed─▶ failed ─paid─▶ paid   refund_failed   refund_requested
                       ├─expired────────▶ expired ─paid─▶ paid   ▼       │
                       └─closed─────────▶ closed             refund_failed
```
``failed`` and ``expired`` can also be closed, and ``failed`` can expire. ``created`` goes
wherever ``pending`` goes: the platform may answer before the portal recorded "submitted"
(its reply to the create request was lost).

Why some arrows exist:
- ``failed → paid``: a failed attempt does not end the platform order; the party may try again.
- ``expired → paid``: the portal expires its order at 24:00 China time, but a payment made
  before then may be reported later ("sometimes late"); the platform is the authority on money.
  Whether the amount still matches is checked against the payment date (`payments.callbacks`).
- ``closed`` is final for payment: the platform confirmed the order can no longer be paid.
  A "paid" notice after that is refused and logged for a person to look at.
- ``refunded`` is final.

Each event leads to exactly one state (`TARGET`). An event whose target is the current state is
a repeat (a duplicated notice): `transition` answers it with ``changed=False`` and nothing else
happens. Any other pair not in `TABLE` is logged (logger ``payments.states``, WARNING) and
raises `IllegalTransition`; an out-of-order notice (``submitted`` after ``paid``) is such a
pair and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from payments.errors import IllegalTransition

__all__ = ["TABLE", "TARGET", "OrderEvent", "OrderState", "Transition", "transition"]

_log = logging.getLogger(__name__)


class OrderState(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CLOSED = "closed"
    REFUND_PENDING = "refund_pending"
    REFUND_FAILED = "refund_failed"
    REFUNDED = "refunded"


class OrderEvent(StrEnum):
    SUBMITTED = "submitted"
    """The platform accepted the order (or reported the party is paying)."""
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    """24:00 China time of the quote's date passed without payment."""
    CLOSED = "closed"
    """The platform confirmed the order is closed (the party cancelled, or it timed out there)."""
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"


S, E = OrderState, OrderEvent

TARGET: dict[OrderEvent, OrderState] = {
    E.SUBMITTED: S.PENDING,
    E.PAID: S.PAID,
    E.PAYMENT_FAILED: S.FAILED,
    E.EXPIRED: S.EXPIRED,
    E.CLOSED: S.CLOSED,
    E.REFUND_REQUESTED: S.REFUND_PENDING,
    E.REFUNDED: S.REFUNDED,
    E.REFUND_FAILED: S.REFUND_FAILED,
}
"""The state each event leads to."""

TABLE: frozenset[tuple[OrderState, OrderEvent]] = frozenset(
    {
        (S.CREATED, E.SUBMITTED),
        (S.CREATED, E.PAID),
        (S.CREATED, E.PAYMENT_FAILED),
        (S.CREATED, E.EXPIRED),
        (S.CREATED, E.CLOSED),
        (S.PENDING, E.PAID),
        (S.PENDING, E.PAYMENT_FAILED),
        (S.PENDING, E.EXPIRED),
        (S.PENDING, E.CLOSED),
        (S.FAILED, E.PAID),
        (S.FAILED, E.EXPIRED),
        (S.FAILED, E.CLOSED),
        (S.EXPIRED, E.PAID),
        (S.EXPIRED, E.CLOSED),
        (S.PAID, E.REFUND_REQUESTED),
        (S.REFUND_PENDING, E.REFUNDED),
        (S.REFUND_PENDING, E.REFUND_FAILED),
        (S.REFUND_FAILED, E.REFUND_REQUESTED),
    }
)
"""Every allowed (state, event) pair that changes the state; the target comes from `TARGET`."""

del S, E


@dataclass(frozen=True)
class Transition:
    """The result of applying an event: the new state, and whether it differs from the old."""

    state: OrderState
    changed: bool


def transition(current: OrderState, event: OrderEvent) -> Transition:
    """Apply ``event`` to an order in ``current``; raise `IllegalTransition` if not allowed."""
    target = TARGET[event]
    if target == current:
        return Transition(current, changed=False)
    if (current, event) not in TABLE:
        # Names only: an order's state and an event carry no personal data.
        _log.warning(
            "payment order: illegal transition refused: event %s in state %s", event.value, current.value
        )
        raise IllegalTransition(current.value, event.value)
    return Transition(target, changed=True)
