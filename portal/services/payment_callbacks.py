"""A payment platform's signed callback, decided and applied in one transaction.

The web edge has already verified the signature and the ±300 s timestamp window
(`payments.verify_callback`); what could not be verified is refused there and recorded with
``record_refusal``. ``handle_notice`` does the rest, in this order (``payments.callbacks``):

1. the delivery's nonce is stored under a unique ``(platform, nonce)``: the same signed
   request a second time is ``replayed``;
2. the order named by the notice is found and its fine locked (``fines.lock_fine``), so
   callbacks and pay clicks on one fine are applied one at a time, whatever their number;
3. what the portal knows is gathered — was this notification id stored before, the fine's
   terms and the payments recorded on it, when and on which day's quote the order was made —
   and `payments.decide_notice` decides (which payment already settled what the order
   collects, the amount due that day, a second payment to refund);
4. an accepted notice is stored under its unique ``(platform, notification_id)`` (STYLE.md
   convention 8), the state change goes through ``payment_orders.apply_event`` (the transition
   table), a payment is appended (``applied``, with the principal and surcharge it settled,
   or flagged for refund when it is a second payment of what was settled), and for an applied
   payment the fiscal receipt job and the party's notification are queued in the same
   transaction; a refusal is a security event
   (and, when the platform says it took the money anyway, the money is recorded as not
   applied, for a refund), and nothing else changes.

The answer (`Decision.ack`) tells the platform to stop or to retry, per its protocol.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import payments
from notifications import Kind, Renderer
from portal.cases import codes as case_codes
from portal.cases.deadlines import DeadlineKind
from portal.database import get_existing, insert_ignoring
from portal.legal_calendar import china_date
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.payments import (
    Fine,
    PaymentNonce,
    PaymentNotification,
    PaymentOrder,
    PaymentRecord,
    PaymentSecurityEvent,
)
from portal.services import case_followups, evidence, jobs, outbox
from portal.services.fine_views import allocation, quote_for, terms
from portal.services.fines import chain_of, lock_fine
from portal.services.payment_orders import apply_event

__all__ = ["RECEIPT_JOB", "handle_notice", "record_refusal"]

log = logging.getLogger("portal.payments.callbacks")
RECEIPT_JOB = "fiscal_receipt"


async def record_refusal(db: AsyncSession, *, platform: str, reason: str, detail: str, body_sha256: str,
                         now: datetime, client_key: str | None = None,
                         notification_id: str | None = None, order_ref: str | None = None) -> None:
    """A refused callback, for the operator: a row and a WARNING log line (no payer data)."""
    log.warning("payment callback refused", extra={"action": "payment_callback", "reason": reason,
                                                   "object": order_ref or "-"})
    db.add(PaymentSecurityEvent(occurred_at=now, platform=platform[:40], reason=reason[:40],
                                detail=detail[:200], notification_id=notification_id,
                                order_ref=order_ref, client_key=client_key, body_sha256=body_sha256))
    await db.flush()


async def _nonce_is_new(db: AsyncSession, platform: str, nonce: str, now: datetime) -> bool:
    stored = await db.execute(insert_ignoring(db, PaymentNonce, ["platform", "nonce"])
                              .values(platform=platform, nonce=nonce, seen_at=now)
                              .returning(PaymentNonce.id))
    return stored.scalar_one_or_none() is not None


async def _store_notice(db: AsyncSession, notice: payments.CallbackNotice, order: PaymentOrder | None,
                        outcome: str, reason: str | None, body_sha256: str,
                        now: datetime) -> PaymentNotification | None:
    unique = ["platform", "notification_id"]
    stored = await db.execute(insert_ignoring(db, PaymentNotification, unique).values(
        platform=notice.platform, notification_id=notice.notification_id,
        order_id=order.id if order else None, status=notice.status.value, amount_fen=notice.amount_fen,
        paid_at=notice.paid_at, platform_serial=notice.platform_serial, signed_at=notice.signed_at,
        received_at=now, outcome=outcome, reason=reason, body_sha256=body_sha256,
    ).returning(PaymentNotification.id))
    notification_id = stored.scalar_one_or_none()
    return await db.get(PaymentNotification, notification_id) if notification_id else None


async def handle_notice(db: AsyncSession, notice: payments.CallbackNotice, *, body_sha256: str,
                        now: datetime, renderer: Renderer, client_key: str | None = None,
                        ) -> payments.Decision:
    """Decide and apply one verified notice (see the module docstring)."""
    nonce_seen = not await _nonce_is_new(db, notice.platform, notice.nonce, now)
    order = (await db.execute(select(PaymentOrder).where(
        PaymentOrder.public_id == notice.order_id))).scalar_one_or_none()
    fine: Fine | None = None
    records: list[PaymentRecord] = []
    on_file: payments.FineOnFile | None = None
    if order is not None:
        fine = await lock_fine(db, order.fine_id)
        await db.refresh(order)
        records = list((await db.execute(select(PaymentRecord).where(
            PaymentRecord.fine_id == fine.id).execution_options(populate_existing=True))).scalars())
        on_file = payments.FineOnFile(await terms(db, fine), tuple(
            payments.PaymentOnFile(r.platform_serial, r.paid_on, r.amount_fen, r.applied, r.recorded_at)
            for r in records), order.created_at, order.quote_date)
    seen = (await db.execute(select(PaymentNotification.id).where(
        PaymentNotification.platform == notice.platform,
        PaymentNotification.notification_id == notice.notification_id))).first() is not None
    snapshot = None
    if order is not None and fine is not None:
        on_order = next((r.platform_serial for r in records if r.order_id == order.id), None)
        snapshot = payments.OrderSnapshot(order.platform, order.public_id, fine.payment_code,
                                          order.amount_fen, payments.OrderState(order.state), on_order)
    decision = payments.decide_notice(
        notice, order=snapshot, fine=on_file, nonce_seen=nonce_seen, notification_seen=seen,
        paid_on=china_date(notice.paid_at) if notice.paid_at is not None else None)
    if isinstance(decision, payments.Refuse):
        await _refused(db, notice, decision, order, fine, body_sha256=body_sha256, now=now,
                       client_key=client_key)
    elif isinstance(decision, payments.Duplicate):
        await _store_notice(db, notice, order, "duplicate", decision.why, body_sha256, now)
    else:
        if order is None or fine is None:
            raise RuntimeError("an accepted notice names a known order")
        await _accepted(db, decision, order, fine, records, body_sha256=body_sha256, now=now,
                        renderer=renderer)
    return decision


async def _refused(db: AsyncSession, notice: payments.CallbackNotice, decision: payments.Refuse,
                   order: PaymentOrder | None, fine: Fine | None, *, body_sha256: str, now: datetime,
                   client_key: str | None) -> None:
    await record_refusal(db, platform=notice.platform, reason=decision.reason.value,
                         detail=decision.detail or decision.reason.text, body_sha256=body_sha256,
                         now=now, client_key=client_key, notification_id=notice.notification_id,
                         order_ref=notice.order_id)
    if not decision.ack:
        return  # the platform will retry: the notice is not kept as handled
    stored = await _store_notice(db, notice, order, "refused", decision.reason.value, body_sha256, now)
    if decision.money_received and order is not None and fine is not None and stored is not None:
        await _append_payment(db, fine, order, notice, stored, applied=False, refund_required=True,
                              reason=decision.reason.value, principal=0, surcharge=0, now=now)


async def _append_payment(db: AsyncSession, fine: Fine, order: PaymentOrder,
                          notice: payments.CallbackNotice, stored: PaymentNotification, *, applied: bool,
                          refund_required: bool, reason: str | None, principal: int, surcharge: int,
                          now: datetime) -> PaymentRecord:
    if notice.paid_at is None or notice.platform_serial is None:
        raise RuntimeError("a notice of money received names when and its platform serial")
    event = await evidence.append(db, chain=chain_of(fine), kind="payment_recorded",
                                  actor=f"platform:{notice.platform}", occurred_at=now, payload={
                                      "order": order.public_id, "serial": notice.platform_serial,
                                      "amount_fen": notice.amount_fen,
                                      "paid_at": notice.paid_at.isoformat(), "applied": applied,
                                      "refund_required": refund_required, "reason": reason,
                                      "notification": notice.notification_id})
    record = PaymentRecord(fine_id=fine.id, order_id=order.id, platform=notice.platform,
                           platform_serial=notice.platform_serial, amount_fen=notice.amount_fen,
                           principal_fen=principal, surcharge_fen=surcharge, paid_at=notice.paid_at,
                           paid_on=china_date(notice.paid_at), applied=applied,
                           refund_required=refund_required, reason=reason,
                           notification_id=stored.id, recorded_at=now, event_hash=event.hash)
    db.add(record)
    await db.flush()
    return record


async def _accepted(db: AsyncSession, decision: payments.Accept, order: PaymentOrder, fine: Fine,
                    records: list[PaymentRecord], *, body_sha256: str, now: datetime,
                    renderer: Renderer) -> None:
    notice = decision.notice
    stored = await _store_notice(db, notice, order, "accepted", None, body_sha256, now)
    if stored is None:
        raise RuntimeError("the fine lock makes a notification id's first store this one")
    if decision.changed:
        await apply_event(db, fine, order, decision.event, source=f"platform:{notice.platform}", now=now)
    if notice.status is not payments.PlatformStatus.SUCCESS:
        return
    if notice.paid_at is None:
        raise RuntimeError("a notice of success names when the money was paid")
    if decision.refund_required:
        await _append_payment(db, fine, order, notice, stored, applied=False, refund_required=True,
                              reason="double_payment", principal=0, surcharge=0, now=now)
        return
    # Under an instalment plan the payment settles some instalments, not the whole fine: the
    # receipt's items are what this payment settled, as the engine allocates it.
    principal, surcharge = allocation(await terms(db, fine), china_date(notice.paid_at), records,
                                      notice.amount_fen)
    record = await _append_payment(db, fine, order, notice, stored, applied=True, refund_required=False,
                                   reason=None, principal=principal, surcharge=surcharge, now=now)
    await jobs.enqueue(db, RECEIPT_JOB, record.id)
    case = await get_existing(db, Case, fine.case_id)
    agency = await get_existing(db, Agency, fine.agency_id)
    await outbox.enqueue(db, event_id=f"payment:{record.id}", kind=Kind.PAYMENT_CONFIRMED,
                         party_id=fine.party_id, renderer=renderer, now=now,
                         link=f"/fines/{fine.public_id}", context={
                             "case_code": case_codes.display(case.code), "agency_name": agency.name,
                             "amount_fen": record.amount_fen, "paid_at": notice.paid_at})
    after = quote_for(await terms(db, fine), china_date(notice.paid_at), [*records, record])
    if after.settled:
        # the party paid: no payment reminder any more (an instalment plan: once all are paid)
        await case_followups.mark_acted(db, case, fine.party_id, (DeadlineKind.PAYMENT,), at=notice.paid_at)
    else:  # under a plan, the instalments this payment settled are reminded no more
        settled = [line.number for line in after.lines if not line.due_fen]
        await case_followups.mark_instalments_paid(db, case, fine.party_id, settled, at=notice.paid_at)


async def refused_count(db: AsyncSession) -> int:
    """How many callbacks were refused (for tests and the operator)."""
    return int((await db.execute(select(func.count()).select_from(PaymentSecurityEvent))).scalar_one())
