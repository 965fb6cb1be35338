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
   convention 8), the state change is decided by the transition table
   (``payment_orders.plan_event``), a payment is appended (``applied``, with the principal and
   surcharge it settled, or flagged for refund when it is a second payment of what was
   settled) — the order's event and the payment's in one sequence of the fine's chain, whose
   head step 3 read and locked (``evidence.append_all``) — and for an applied
   payment the fiscal receipt job and the party's notification are queued in the same
   transaction; a refusal is a security event
   (and, when the platform says it took the money anyway, the money is recorded as not
   applied, for a refund), and nothing else changes.

The answer (`Decision.ack`) tells the platform to stop or to retry, per its protocol.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, bindparam, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

import payments
from notifications import Kind, Renderer
from portal.cases import codes as case_codes
from portal.cases.deadlines import DeadlineKind
from portal.cases.events import StageEvent
from portal.database import insert_ignoring
from portal.legal_calendar import HolidayCalendar, china_date
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.evidence import ChainHead, EvidenceEvent
from portal.models.outbox import NotificationPreference
from portal.models.payments import (
    Fine,
    PaymentNonce,
    PaymentNotification,
    PaymentOrder,
    PaymentRecord,
    PaymentSecurityEvent,
)
from portal.services import case_followups, cases, evidence, jobs, outbox
from portal.services.calendar import load_calendar
from portal.services.fine_views import FineTerms, allocation, quote_for, terms_from_events
from portal.services.fines import chain_of, locking_fine
from portal.services.notification_preferences import Preferences, preferences_of
from portal.services.payment_orders import PlannedTransition, apply_event, plan_event, record_transition

__all__ = ["RECEIPT_JOB", "handle_notice", "record_refusal"]

log = logging.getLogger("portal.payments.callbacks")
RECEIPT_JOB = "fiscal_receipt"
# Core inserts: the statement is all the callback needs, not the ORM's bookkeeping
_NONCES = PaymentNonce.__table__
_NOTIFICATIONS = PaymentNotification.__table__
_PAYMENTS = cast(Table, PaymentRecord.__table__)
_INSERT_PAYMENT = insert(_PAYMENTS).returning(_PAYMENTS.c.id)


@dataclass(frozen=True)
class _Statements:
    """The callback's statements, built once per dialect with their values as bound parameters
    (``_statements``): built afresh on every callback, their joins, locks and values cost
    about as much CPU as running them."""

    store_nonce: Insert
    store_notice: Insert
    lock_fine: Select[Fine, Case, str, NotificationPreference]
    """The notice's fine locked, with its case, agency's name and party's preferences."""
    under_lock: Select[PaymentOrder, PaymentRecord, bool, ChainHead]
    """The order, the fine's payments, whether the notification was stored, the chain head."""


_NOTIFICATION_SEEN = exists().where(PaymentNotification.platform == bindparam("platform"),
                                    PaymentNotification.notification_id == bindparam("notification"))
_PREPARED: dict[str, _Statements] = {}


def _statements(db: AsyncSession) -> _Statements:
    """``db``'s dialect's statements (``locking_fine`` and the ``ON CONFLICT`` clause differ)."""
    dialect = db.get_bind().dialect.name
    prepared = _PREPARED.get(dialect)
    if prepared is None:
        prepared = _PREPARED[dialect] = _Statements(
            store_nonce=insert_ignoring(db, _NONCES, ["platform", "nonce"]).returning(_NONCES.c.id),
            store_notice=insert_ignoring(db, _NOTIFICATIONS, ["platform", "notification_id"])
            .returning(_NOTIFICATIONS.c.id),
            lock_fine=locking_fine(db, select(Fine, Case, Agency.name, NotificationPreference)
                                   .join(PaymentOrder, PaymentOrder.fine_id == Fine.id)
                                   .join(Case, Case.id == Fine.case_id)
                                   .join(Agency, Agency.id == Fine.agency_id)
                                   .outerjoin(NotificationPreference,
                                              NotificationPreference.party_id == Fine.party_id)
                                   .where(PaymentOrder.public_id == bindparam("order"))),
            under_lock=evidence.locking_head(db, (
                select(PaymentOrder, PaymentRecord, _NOTIFICATION_SEEN.label("seen"), ChainHead)
                .outerjoin_from(PaymentOrder, PaymentRecord, PaymentRecord.fine_id == bindparam("fine"))
                .join_from(PaymentOrder, ChainHead, ChainHead.chain == bindparam("chain"))
                .where(PaymentOrder.public_id == bindparam("order")).order_by(PaymentRecord.id))))
    return prepared


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
    stored = await db.execute(_statements(db).store_nonce, {"platform": platform, "nonce": nonce,
                                                            "seen_at": now})
    return stored.scalar_one_or_none() is not None


async def _store_notice(db: AsyncSession, notice: payments.CallbackNotice, order: PaymentOrder | None,
                        outcome: str, reason: str | None, body_sha256: str, now: datetime) -> int | None:
    """The stored notification's id; None when that notification id was stored before."""
    stored = await db.execute(_statements(db).store_notice, {
        "platform": notice.platform, "notification_id": notice.notification_id,
        "order_id": order.id if order else None, "status": notice.status.value,
        "amount_fen": notice.amount_fen, "paid_at": notice.paid_at,
        "platform_serial": notice.platform_serial, "signed_at": notice.signed_at, "received_at": now,
        "outcome": outcome, "reason": reason, "body_sha256": body_sha256})
    return stored.scalar_one_or_none()


@dataclass(frozen=True)
class _OnFile:
    """The notice's order and what the portal holds about its fine, read under the fine's
    lock; the case's history and the calendar are kept for the reminders a payment silences."""

    order: PaymentOrder
    fine: Fine
    case: Case
    agency_name: str
    records: list[PaymentRecord]
    """The fine's payments, in the order they were recorded."""
    notification_seen: bool
    events: list[StageEvent]
    calendar: HolidayCalendar
    terms: FineTerms
    preferences: Preferences
    """The party's notification preferences, for the payment's confirmation."""
    head: ChainHead
    """The head of the fine's evidence chain, locked (``evidence.locking_head``)."""

    def snapshot(self) -> payments.OrderSnapshot:
        on_order = next((r.platform_serial for r in self.records if r.order_id == self.order.id), None)
        return payments.OrderSnapshot(self.order.platform, self.order.public_id, self.fine.payment_code,
                                      self.order.amount_fen, payments.OrderState(self.order.state), on_order)

    def fine_on_file(self) -> payments.FineOnFile:
        return payments.FineOnFile(self.terms, tuple(
            payments.PaymentOnFile(r.platform_serial, r.paid_on, r.amount_fen, r.applied, r.recorded_at)
            for r in self.records), self.order.created_at, self.order.quote_date)


async def _on_file(db: AsyncSession, notice: payments.CallbackNotice) -> _OnFile | None:
    """What the notice's order leads to (None for an order the portal never made), in few
    round trips: the fine locked with its case, agency and party's notification preferences
    in one, then, under the lock, the order as it is now with the fine's payments, whether
    this notification id was stored before (a notice stored by a callback that held the lock
    first is seen) and the head of the fine's chain, locked for the events a payment appends,
    in another."""
    statements = _statements(db)
    locked = (await db.execute(statements.lock_fine, {"order": notice.order_id})).one_or_none()
    if locked is None:
        return None
    fine, case, agency_name, preferences = locked
    rows = (await db.execute(statements.under_lock, {
        "platform": notice.platform, "notification": notice.notification_id, "fine": fine.id,
        "chain": chain_of(fine), "order": notice.order_id})).all()
    if not rows:
        raise RuntimeError("an order's fine has its evidence chain (the order's creation is in it)")
    records = [row[1] for row in rows if row[1] is not None]
    events = await cases.case_events(db, case)
    calendar = await load_calendar(db)
    return _OnFile(rows[0][0], fine, case, agency_name, records, bool(rows[0][2]), events, calendar,
                   terms_from_events(fine, events, calendar), preferences_of(fine.party_id, preferences),
                   rows[0][3])


async def handle_notice(db: AsyncSession, notice: payments.CallbackNotice, *, body_sha256: str,
                        now: datetime, renderer: Renderer, client_key: str | None = None,
                        ) -> payments.Decision:
    """Decide and apply one verified notice (see the module docstring)."""
    nonce_seen = not await _nonce_is_new(db, notice.platform, notice.nonce, now)
    on_file = await _on_file(db, notice)
    seen = (on_file.notification_seen if on_file is not None
            else bool((await db.execute(select(_NOTIFICATION_SEEN), {
                "platform": notice.platform, "notification": notice.notification_id})).scalar()))
    decision = payments.decide_notice(
        notice, order=on_file.snapshot() if on_file else None,
        fine=on_file.fine_on_file() if on_file else None, nonce_seen=nonce_seen, notification_seen=seen,
        paid_on=china_date(notice.paid_at) if notice.paid_at is not None else None)
    if isinstance(decision, payments.Refuse):
        await _refused(db, notice, decision, on_file, body_sha256=body_sha256, now=now,
                       client_key=client_key)
    elif isinstance(decision, payments.Duplicate):
        await _store_notice(db, notice, on_file.order if on_file else None, "duplicate", decision.why,
                            body_sha256, now)
    else:
        if on_file is None:
            raise RuntimeError("an accepted notice names a known order")
        await _accepted(db, decision, on_file, body_sha256=body_sha256, now=now, renderer=renderer)
    return decision


async def _refused(db: AsyncSession, notice: payments.CallbackNotice, decision: payments.Refuse,
                   on_file: _OnFile | None, *, body_sha256: str, now: datetime,
                   client_key: str | None) -> None:
    await record_refusal(db, platform=notice.platform, reason=decision.reason.value,
                         detail=decision.detail or decision.reason.text, body_sha256=body_sha256,
                         now=now, client_key=client_key, notification_id=notice.notification_id,
                         order_ref=notice.order_id)
    if not decision.ack:
        return  # the platform will retry: the notice is not kept as handled
    stored = await _store_notice(db, notice, on_file.order if on_file else None, "refused",
                                 decision.reason.value, body_sha256, now)
    if decision.money_received and on_file is not None and stored is not None:
        await _append_payment(db, on_file, notice, stored, applied=False, refund_required=True,
                              reason=decision.reason.value, principal=0, surcharge=0, now=now)


def _payment_entry(on_file: _OnFile, notice: payments.CallbackNotice, paid_at: datetime, serial: str, *,
                   applied: bool, refund_required: bool, reason: str | None, now: datetime) -> evidence.Entry:
    """The ``payment_recorded`` event of the notice's money (paid at ``paid_at``, the
    platform's ``serial``), for the fine's chain."""
    return evidence.Entry("payment_recorded", f"platform:{notice.platform}", {
        "order": on_file.order.public_id, "serial": serial,
        "amount_fen": notice.amount_fen, "paid_at": paid_at.isoformat(), "applied": applied,
        "refund_required": refund_required, "reason": reason,
        "notification": notice.notification_id}, occurred_at=now)


def _payment_values(on_file: _OnFile, notice: payments.CallbackNotice, paid_at: datetime, serial: str,
                    stored: int, event: EvidenceEvent, *, applied: bool, refund_required: bool,
                    reason: str | None, principal: int, surcharge: int, now: datetime) -> dict[str, Any]:
    """The payment's row (``stored``: its notification's id; ``event``: its appended event)."""
    return {"fine_id": on_file.fine.id, "order_id": on_file.order.id, "platform": notice.platform,
            "platform_serial": serial, "amount_fen": notice.amount_fen,
            "principal_fen": principal, "surcharge_fen": surcharge, "paid_at": paid_at,
            "paid_on": china_date(paid_at), "applied": applied,
            "refund_required": refund_required, "reason": reason, "notification_id": stored,
            "recorded_at": now, "event_hash": event.hash}


async def _append_payment(db: AsyncSession, on_file: _OnFile, notice: payments.CallbackNotice,
                          stored: int, *, applied: bool, refund_required: bool, reason: str | None,
                          principal: int, surcharge: int, now: datetime,
                          transition: PlannedTransition | None = None) -> PaymentRecord:
    """Append the payment (``stored``: its notification's id) and its event in the fine's
    chain; with ``transition``, the order's change first, its event appended with the
    payment's in one sequence (a payment's act: one lock of the chain, not two). Returns the
    payment as written, outside the session: it is only read afterwards."""
    paid_at, serial = notice.paid_at, notice.platform_serial
    if paid_at is None or serial is None:
        raise RuntimeError("a notice of money received names when and its platform serial")
    entry = _payment_entry(on_file, notice, paid_at, serial, applied=applied,
                           refund_required=refund_required, reason=reason, now=now)
    entries = [transition.entry(), entry] if transition is not None else [entry]
    events = await evidence.append_all(db, chain=chain_of(on_file.fine), entries=entries, head=on_file.head)
    if transition is not None:
        await record_transition(db, transition, events[0])
    values = _payment_values(on_file, notice, paid_at, serial, stored, events[-1], applied=applied,
                             refund_required=refund_required, reason=reason, principal=principal,
                             surcharge=surcharge, now=now)
    payment_id = (await db.execute(_INSERT_PAYMENT, values)).scalar_one()
    return PaymentRecord(id=payment_id, **values)


async def _accepted(db: AsyncSession, decision: payments.Accept, on_file: _OnFile, *, body_sha256: str,
                    now: datetime, renderer: Renderer) -> None:
    notice, fine = decision.notice, on_file.fine
    stored = await _store_notice(db, notice, on_file.order, "accepted", None, body_sha256, now)
    if stored is None:
        raise RuntimeError("the fine lock makes a notification id's first store this one")
    source = f"platform:{notice.platform}"
    if notice.status is not payments.PlatformStatus.SUCCESS:
        if decision.changed:
            await apply_event(db, fine, on_file.order, decision.event, source=source, now=now)
        return
    if notice.paid_at is None:
        raise RuntimeError("a notice of success names when the money was paid")
    # the order's change is appended with the payment, as ``apply_event`` would write it
    transition = (plan_event(on_file.order, decision.event, source=source, now=now)
                  if decision.changed else None)
    if transition is not None and not transition.moved.changed:
        transition = None
    if decision.refund_required:
        await _append_payment(db, on_file, notice, stored, applied=False, refund_required=True,
                              reason="double_payment", principal=0, surcharge=0, now=now,
                              transition=transition)
        return
    # Under an instalment plan the payment settles some instalments, not the whole fine: the
    # receipt's items are what this payment settled, as the engine allocates it.
    paid_on = china_date(notice.paid_at)
    principal, surcharge = allocation(on_file.terms, paid_on, on_file.records, notice.amount_fen)
    record = await _append_payment(db, on_file, notice, stored, applied=True, refund_required=False,
                                   reason=None, principal=principal, surcharge=surcharge, now=now,
                                   transition=transition)
    await jobs.enqueue(db, RECEIPT_JOB, record.id)
    await outbox.enqueue(db, event_id=f"payment:{record.id}", kind=Kind.PAYMENT_CONFIRMED,
                         party_id=fine.party_id, renderer=renderer, now=now,
                         link=f"/fines/{fine.public_id}", preferences=on_file.preferences, context={
                             "case_code": case_codes.display(on_file.case.code),
                             "agency_name": on_file.agency_name,
                             "amount_fen": record.amount_fen, "paid_at": notice.paid_at})
    await _silence_reminders(db, on_file, record, notice.paid_at)


async def _silence_reminders(db: AsyncSession, on_file: _OnFile, record: PaymentRecord,
                             paid_at: datetime) -> None:
    """The party paid: no payment reminder any more (under an instalment plan: for the
    instalments this payment settled, and once all are paid, for the deadline itself)."""
    after = quote_for(on_file.terms, china_date(paid_at), [*on_file.records, record])
    case, party_id, calendar, events = on_file.case, on_file.fine.party_id, on_file.calendar, on_file.events
    if after.settled:
        await case_followups.mark_acted(db, case, party_id, (DeadlineKind.PAYMENT,), at=paid_at,
                                        calendar=calendar, events=events)
    else:
        settled = [line.number for line in after.lines if not line.due_fen]
        await case_followups.mark_instalments_paid(db, case, party_id, settled, at=paid_at,
                                                   calendar=calendar, events=events)


async def refused_count(db: AsyncSession) -> int:
    """How many callbacks were refused (for tests and the operator)."""
    return int((await db.execute(select(func.count()).select_from(PaymentSecurityEvent))).scalar_one())
