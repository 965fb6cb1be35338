"""Payment orders: the one open order per fine, and every change of an order's state.

"Pay" clicks (SECURITY.md 2.3.4: 20 concurrent clicks on one fine give one open order):
``open_order`` locks the fine, reuses the open order when it is still good for today's amount,
else expires it and creates a new one, all in the caller's transaction. The partial unique index
``uq_payment_orders_open_fine`` backs the lock up in the database. The platform is called after
that transaction, with the order's id, on which platforms are idempotent, so concurrent clicks
all land on the same platform order; ``record_platform_order`` then stores where to pay.

An order is good for one China day: its amount is that day's quote and it expires at 24:00
China time (the quote's validity), after which a new order carries the new amount. The amount
is the quote's ``pay_now_fen``: the whole amount due, or, under an approved instalment plan
(APL art. 66), every instalment due by that day with its surcharge, else the next open
instalment — never the whole remainder (``services.fine_views`` says why). Each instalment
paid is then one order, one payment and one fiscal e-receipt.

Refunds (``record_refund``): the agency reports that the platform refunded a payment — a
second payment of a settled fine, money the portal could not apply, or the payment of a
decision that was changed. The payment's order goes ``paid → refund_pending → refunded``
when that payment is the order's only one, and a payment that had a fiscal receipt gets a
red-letter reversal (``REVERSAL_JOB``).

``apply_event`` is the one way an order's state changes: `payments.states.transition` (the
transition table, the single source of truth) decides; a repeated status changes nothing; a
change is appended as an ``OrderTransition`` row and an event in the fine's evidence chain.
Its two halves, ``plan_event`` and ``record_transition``, let a callback append the change's
event together with the payment's (``services.payment_callbacks``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

import payments
from portal.database import get_existing
from portal.errors import Conflict, Unprocessable
from portal.models.evidence import EvidenceEvent
from portal.models.payments import OPEN_STATES, Fine, OrderTransition, PaymentOrder, PaymentRecord, Refund
from portal.models.receipts import FiscalReceipt
from portal.services import evidence, jobs
from portal.services.fines import chain_of, lock_fine

__all__ = ["REVERSAL_JOB", "PlannedTransition", "apply_event", "open_order", "plan_event",
           "record_platform_order", "record_refund", "record_transition"]

REVERSAL_JOB = "receipt_reversal"


@dataclass(frozen=True)
class PlannedTransition:
    """A change of ``order``'s state the transition table allows, not yet written: its
    evidence ``entry`` can be appended together with the act's other events
    (``evidence.append_all``), then ``record_transition`` writes the change."""

    order: PaymentOrder
    event: payments.OrderEvent
    moved: payments.Transition
    source: str
    now: datetime

    def entry(self) -> evidence.Entry:
        return evidence.Entry(f"order_{self.event.value}", self.source, {
            "order": self.order.public_id, "from": self.order.state, "to": self.moved.state.value,
            "event": self.event.value}, occurred_at=self.now)


def plan_event(order: PaymentOrder, event: payments.OrderEvent, *, source: str,
               now: datetime) -> PlannedTransition:
    """What ``event`` does to ``order``; raise `payments.IllegalTransition` when the table has
    no such change (``moved.changed`` is false for a repeated status)."""
    return PlannedTransition(order, event, payments.transition(payments.OrderState(order.state), event),
                             source, now)


_INSERT_TRANSITION = insert(cast(Table, OrderTransition.__table__))
_ORDERS = cast(Table, PaymentOrder.__table__)
_MOVE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id")).values(state=bindparam("to_state"))


async def record_transition(db: AsyncSession, planned: PlannedTransition, appended: EvidenceEvent) -> None:
    """Write a changing ``planned`` whose entry was appended as ``appended``: two Core
    statements built once (the ORM's unit of work cost twice their CPU for the same rows)."""
    order, moved = planned.order, planned.moved
    await db.execute(_INSERT_TRANSITION, {
        "order_id": order.id, "from_state": order.state, "to_state": moved.state.value,
        "event": planned.event.value, "source": planned.source[:120], "occurred_at": planned.now,
        "event_hash": appended.hash})
    await db.execute(_MOVE_ORDER, {"order_id": order.id, "to_state": moved.state.value})
    set_committed_value(order, "state", moved.state.value)  # as written: nothing left to flush


async def apply_event(db: AsyncSession, fine: Fine, order: PaymentOrder, event: payments.OrderEvent, *,
                      source: str, now: datetime) -> payments.Transition:
    """Apply ``event`` to ``order`` (its fine locked by the caller); raise
    `payments.IllegalTransition` when the table has no such change."""
    planned = plan_event(order, event, source=source, now=now)
    if not planned.moved.changed:
        return planned.moved
    [appended] = await evidence.append_all(db, chain=chain_of(fine), entries=[planned.entry()])
    await record_transition(db, planned, appended)
    return planned.moved


async def _current_open(db: AsyncSession, fine_id: int) -> PaymentOrder | None:
    return (await db.execute(select(PaymentOrder).where(
        PaymentOrder.fine_id == fine_id, PaymentOrder.state.in_(OPEN_STATES))
        .execution_options(populate_existing=True))).scalar_one_or_none()


async def open_order(db: AsyncSession, fine_id: int, quote: payments.Quote, *, platform: str,
                     actor: str, now: datetime) -> PaymentOrder:
    """The fine's open order for ``quote`` (today's), reused or newly created.

    ``Conflict("nothing_due")`` when nothing is owed (the fine was paid meanwhile)."""
    fine = await lock_fine(db, fine_id)
    if quote.pay_now_fen == 0:
        raise Conflict(code="nothing_due")
    current = await _current_open(db, fine.id)
    if current is not None:
        if (current.expires_at > now and current.amount_fen == quote.pay_now_fen
                and current.quote_date == quote.on and current.platform == platform):
            return current
        # Yesterday's order (or another amount or platform): it can no longer be paid here.
        await apply_event(db, fine, current, payments.OrderEvent.EXPIRED, source="portal", now=now)
    order = PaymentOrder(public_id=secrets.token_hex(16), fine_id=fine.id, platform=platform,
                         state=payments.OrderState.CREATED.value, amount_fen=quote.pay_now_fen,
                         quote_date=quote.on, expires_at=quote.valid_until, created_at=now)
    db.add(order)
    await db.flush()
    await evidence.append(db, chain=chain_of(fine), kind="order_created", actor=actor, occurred_at=now,
                          payload={"order": order.public_id, "platform": platform,
                                   "amount_fen": order.amount_fen, "quote_date": quote.on.isoformat(),
                                   "expires_at": order.expires_at.isoformat()})
    return order


async def payer_of(db: AsyncSession, order_public_id: str) -> int | None:
    """The party whose fine the order pays (None for an unknown order): the only one who may
    open its page at the sandbox platform."""
    return (await db.execute(select(Fine.party_id).join(PaymentOrder, PaymentOrder.fine_id == Fine.id)
                             .where(PaymentOrder.public_id == order_public_id))).scalar_one_or_none()


async def record_platform_order(db: AsyncSession, order_id: int, placed: payments.PayOrder, *,
                                now: datetime) -> PaymentOrder:
    """Store the platform's order id and pay URL, and mark the order submitted (once)."""
    order = await get_existing(db, PaymentOrder, order_id)  # committed before the platform was called
    fine = await lock_fine(db, order.fine_id)
    await db.refresh(order)
    if order.platform_order_id is None:
        order.platform_order_id = placed.platform_order_id
        order.pay_url = placed.pay_url
    if order.state == payments.OrderState.CREATED.value:
        await apply_event(db, fine, order, payments.OrderEvent.SUBMITTED, source=f"platform:{order.platform}",
                          now=now)
    await db.flush()
    return order


async def record_refund(db: AsyncSession, fine_id: int, *, platform_serial: str, refund_serial: str,
                        reason: str, actor: str, now: datetime) -> Refund:
    """Record that the payment ``platform_serial`` of the fine was refunded (once; the same
    report again answers the same refund, a different one ``already_refunded``)."""
    fine = await lock_fine(db, fine_id)
    payment = (await db.execute(select(PaymentRecord).where(
        PaymentRecord.fine_id == fine.id, PaymentRecord.platform_serial == platform_serial))
    ).scalar_one_or_none()
    if payment is None:
        raise Unprocessable("unknown_payment")
    earlier = (await db.execute(select(Refund).where(Refund.payment_id == payment.id))).scalar_one_or_none()
    if earlier is not None:
        if earlier.refund_serial != refund_serial:
            raise Conflict(code="already_refunded")
        return earlier
    order = await get_existing(db, PaymentOrder, payment.order_id)
    others = (await db.execute(select(PaymentRecord.id).where(
        PaymentRecord.order_id == order.id, PaymentRecord.id != payment.id))).first()
    if others is None and order.state in ("paid", "refund_failed"):
        source = f"{actor}:refund"
        await apply_event(db, fine, order, payments.OrderEvent.REFUND_REQUESTED, source=source, now=now)
        await apply_event(db, fine, order, payments.OrderEvent.REFUNDED, source=source, now=now)
    event = await evidence.append(db, chain=chain_of(fine), kind="payment_refunded", actor=actor,
                                  occurred_at=now, payload={"serial": platform_serial,
                                                            "refund_serial": refund_serial,
                                                            "reason": reason})
    refund = Refund(payment_id=payment.id, refund_serial=refund_serial, reason=reason, actor=actor,
                    recorded_at=now, event_hash=event.hash)
    db.add(refund)
    await db.flush()
    receipted = (await db.execute(select(FiscalReceipt.id).where(
        FiscalReceipt.payment_id == payment.id))).first()
    if receipted is not None or payment.applied:
        await jobs.enqueue(db, REVERSAL_JOB, refund.id)
    return refund
