"""What a fine owes on a day and what has happened to it: the values pages and the API render.

The amount due is never stored: it changes every day (APL art. 72), so it is computed by
`payments.amount_due` from the fine, the money applied to it, and the case's history. Nor is
the due date taken from the fine's row (``Fine.due_date`` records what was computed when the
fine was made, as evidence of what the party was told then): it is counted from the service
on every read with the calendar loaded now (``due``), so loading a year's arrangement changes
every quote at once (LAW.md "Counting days"). Counted on the fallback, the days up
to the latest one an arrangement could make the last are not surcharged (a
``calendar_pending`` suspension): no surcharge day is charged on a guess, and the fine is not
shown overdue on them.

- days while a reconsideration or lawsuit was pending are not counted (APL art. 73 para. 3):
  each ``*_started`` event of the case opens a `Suspension`, the next ``*_ended`` closes it;
- an approved deferral (APL art. 66) is the agency's ``window_extended`` event for the
  ``payment`` deadline: the fine is then due on its ``new_last_day``;
- an approved instalment plan (APL art. 66) is the agency's ``instalments_approved`` event:
  each instalment has its own due date and its own surcharge (`payments.InstalmentPlan`).
  The latest of a deferral and a plan applies (the engine takes one or the other); a plan
  whose amounts do not add up to this fine (a fine row made for another amount than the
  decision's) cannot be applied to it and is left out, so the fine keeps its own due date.

What the party is asked to pay (``Quote.pay_now_fen``, the engine's answer, which orders
collect and callbacks check): without a plan the whole amount due; with a plan every
instalment due by today (overdue ones with their surcharge, and today's), or, when none is,
the next open instalment, so a party may pay ahead one instalment at a time. Paying the
whole remainder at once is not offered: the platform is paid exactly the quoted amount.

A fine's state for people: ``unpaid`` (nothing overdue), ``overdue`` (surcharge accruing on
the fine or on an instalment), ``paid`` (nothing owed), ``refunded`` (the money that paid it
was refunded: the decision was changed, the fine is closed). Money kept aside
(``refund_required``) is shown to the party and the agency until the agency reports it
refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import payments
from payments import InstalmentPlan  # FineView.payments shadows the module in its body
from portal.cases.events import EventKind, StageEvent
from portal.database import get_existing
from portal.legal_calendar import Deadline, HolidayCalendar, china_date, payment_deadline
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.models.payments import OPEN_STATES, Fine, PaymentOrder, PaymentRecord, Refund
from portal.models.receipts import FiscalReceipt, ReceiptDocument
from portal.services import cases
from portal.services.calendar import load_calendar

__all__ = ["FineTerms", "FineView", "InstalmentView", "PaymentView", "ReceiptView", "allocation",
           "case_fines", "due", "fine_view", "quote_for", "receipt_views", "terms",
           "terms_from_events"]

_STARTS = {EventKind.RECONSIDERATION_STARTED: payments.SuspensionKind.RECONSIDERATION,
           EventKind.LAWSUIT_STARTED: payments.SuspensionKind.LAWSUIT}
_ENDS = {EventKind.RECONSIDERATION_ENDED: payments.SuspensionKind.RECONSIDERATION,
         EventKind.LAWSUIT_ENDED: payments.SuspensionKind.LAWSUIT}


def due(fine: Fine, calendar: HolidayCalendar) -> Deadline:
    """The fine's 15-day payment period (APL art. 67), counted from its service now."""
    return payment_deadline(fine.served_at or fine.served_on, calendar)


@dataclass(frozen=True)
class FineTerms(payments.Terms):
    """Everything the amount-due engine needs besides the date and the payments (at most one of
    ``deferral`` and ``plan``: whichever the agency approved last); ``due`` is the payment
    period as counted now (its ``last_day`` is what the party is shown)."""

    due: Deadline | None = None


def terms_from_events(fine: Fine, events: Sequence[StageEvent], calendar: HolidayCalendar) -> FineTerms:
    """The fine's terms, with the suspensions, deferral or instalment plan its case's events
    record (see the module docstring)."""
    opened: dict[payments.SuspensionKind, date] = {}
    suspensions: list[payments.Suspension] = []
    deferral: date | None = None
    plan: payments.InstalmentPlan | None = None
    for event in events:
        day = china_date(event.at)
        if event.kind in _STARTS:
            opened.setdefault(_STARTS[event.kind], day)
        elif event.kind in _ENDS and _ENDS[event.kind] in opened:
            kind = _ENDS[event.kind]
            start = opened.pop(kind)
            suspensions.append(payments.Suspension(kind, start, max(day, start)))
        elif event.kind is EventKind.WINDOW_EXTENDED and event.data.get("deadline") == "payment":
            deferral, plan = event.day("new_last_day"), None
        elif event.kind is EventKind.INSTALMENTS_APPROVED:
            plan = payments.InstalmentPlan.of((i.due_date, i.amount_fen)
                                              for i in event.schedule("instalments"))
            deferral = None
    suspensions.extend(payments.Suspension(kind, start) for kind, start in opened.items())
    period = due(fine, calendar)
    if period.latest_last_day > period.last_day:
        suspensions.append(payments.Suspension(payments.SuspensionKind.CALENDAR_PENDING,
                                               period.last_day + timedelta(days=1), period.latest_last_day))
    moved = payments.Deferral(deferral) if deferral is not None and deferral > period.last_day else None
    if plan is not None and plan.total_fen != fine.amount_fen:
        plan = None
    return FineTerms(payments.Fine(fine.amount_fen, period.last_day, fine.surcharge_applies),
                     tuple(suspensions), moved, plan, period)


async def terms(db: AsyncSession, fine: Fine) -> FineTerms:
    case = await get_existing(db, Case, fine.case_id)
    return terms_from_events(fine, await cases.case_events(db, case), await load_calendar(db))


def quote_for(fine_terms: FineTerms, on: date, records: Sequence[PaymentRecord], *,
              excluding_serial: str | None = None) -> payments.Quote:
    """The quote on ``on`` counting the money applied to the fine (but ``excluding_serial``)."""
    paid = [payments.Payment(r.paid_on, r.amount_fen) for r in records
            if r.applied and r.platform_serial != excluding_serial]
    return fine_terms.quote(on, paid)


def allocation(fine_terms: FineTerms, on: date, records: Sequence[PaymentRecord],
               amount_fen: int) -> tuple[int, int]:
    """``(principal_fen, surcharge_fen)``: what a payment of ``amount_fen`` on ``on`` settles,
    beside ``records``, as the engine allocates it (an instalment's surcharge before its
    principal, the instalment due first first). Under a plan that is less than everything."""
    before = quote_for(fine_terms, on, records)
    paid = [payments.Payment(r.paid_on, r.amount_fen) for r in records if r.applied]
    after = fine_terms.quote(on, [*paid, payments.Payment(on, amount_fen)])
    return (before.principal_outstanding_fen - after.principal_outstanding_fen,
            before.surcharge_outstanding_fen - after.surcharge_outstanding_fen)


@dataclass(frozen=True)
class InstalmentView:
    """One instalment of the fine's plan as of the quote's date. ``status``: ``paid``,
    ``overdue`` (its due date has passed: surcharge accrues on it) or ``due`` (not yet);
    ``in_pay_now``: part of what the party is asked to pay today."""

    line: payments.QuoteLine
    status: str
    in_pay_now: bool


@dataclass(frozen=True)
class PaymentView:
    record: PaymentRecord
    refund: Refund | None

    @property
    def status(self) -> str:
        """``applied`` | ``refund_required`` | ``refunded``."""
        if self.refund is not None:
            return "refunded"
        return "refund_required" if self.record.refund_required else "applied"


@dataclass(frozen=True)
class ReceiptView:
    row: FiscalReceipt
    documents: dict[str, ReceiptDocument]
    """The sealed documents by format (``pdf``, ``ofd``); none while being issued."""
    original: FiscalReceipt | None
    reversed_by: FiscalReceipt | None

    @property
    def ready(self) -> bool:
        """Sealed and stored: it can be downloaded and verified."""
        return bool(self.documents)


@dataclass(frozen=True)
class FineView:
    fine: Fine
    case: Case
    agency_name: str
    party: Party
    delivery_public_id: str | None
    today: date
    quote: payments.Quote
    fine_terms: FineTerms
    payments: tuple[PaymentView, ...]
    receipts: tuple[ReceiptView, ...]
    open_order: PaymentOrder | None
    latest_order: PaymentOrder | None = None
    """The order made last, open or not: what the page the party returns to reports on."""

    @property
    def state(self) -> str:
        if any(p.record.applied and p.refund is not None for p in self.payments):
            return "refunded"
        if self.quote.settled:
            return "paid"
        pending = self.fine_terms.due is not None and self.today <= self.fine_terms.due.latest_last_day \
            and self.plan is None and self.fine_terms.deferral is None
        if not pending and any(line.due_fen and line.due_date < self.today for line in self.quote.lines):
            return "overdue"
        return "unpaid"

    @property
    def plan(self) -> InstalmentPlan | None:
        return self.fine_terms.plan

    @property
    def instalments(self) -> tuple[InstalmentView, ...]:
        """The plan's instalments with their status; empty without a plan."""
        if self.plan is None:
            return ()
        asked = self.quote.pay_now_lines
        return tuple(InstalmentView(line, "paid" if not line.due_fen else
                                    "overdue" if line.due_date < self.today else "due",
                                    line.number in asked) for line in self.quote.lines)

    @property
    def paying_ahead(self) -> bool:
        """Under a plan with nothing due by today: the party is asked for the next instalment."""
        return any(i.in_pay_now and i.line.due_date > self.today for i in self.instalments)

    @property
    def last_paid_instalment(self) -> InstalmentView | None:
        """Under a plan, the latest instalment paid (payments settle them in due order)."""
        return next((i for i in reversed(self.instalments) if i.status == "paid"), None)

    @property
    def next_instalment(self) -> InstalmentView | None:
        """Under a plan, the first instalment still open."""
        return next((i for i in self.instalments if i.status != "paid"), None)

    @property
    def receipts_pending(self) -> bool:
        """An applied payment still waits for its sealed fiscal e-receipt."""
        ready = {r.row.payment_id for r in self.receipts if r.ready}
        return any(p.status == "applied" and p.record.id not in ready for p in self.payments)

    @property
    def payable(self) -> bool:
        return self.state in ("unpaid", "overdue")

    @property
    def refund_flags(self) -> int:
        """Payments waiting for a refund (double payments, money not applied)."""
        return sum(p.status == "refund_required" for p in self.payments)

    @property
    def due(self) -> Deadline:
        """The statutory payment period as counted now (with how, and any fallback warning)."""
        if self.fine_terms.due is None:
            raise ValueError("fine terms made without their payment period")
        return self.fine_terms.due

    @property
    def effective_due_date(self) -> date:
        """The date to pay by: after a deferral its date; under a plan the due date of the
        first instalment still open (the last one once all are paid)."""
        if self.plan is not None:
            return next((line.due_date for line in self.quote.lines if line.due_fen),
                        self.quote.lines[-1].due_date)
        return self.fine_terms.deferral.due_date if self.fine_terms.deferral else self.due.last_day

    @property
    def fallback_warning(self) -> str | None:
        """Set while the due date is counted on the fallback (and no deferral or plan fixes it)."""
        if self.plan is not None or self.fine_terms.deferral is not None:
            return None
        return self.due.fallback_warning


async def fine_view(db: AsyncSession, fine: Fine, today: date) -> FineView:
    """The fine as of the China date ``today``."""
    case = await get_existing(db, Case, fine.case_id)
    agency = await get_existing(db, Agency, fine.agency_id)
    party = await get_existing(db, Party, fine.party_id)
    delivery = await db.get(Delivery, fine.delivery_id) if fine.delivery_id else None
    rows = (await db.execute(
        select(PaymentRecord, Refund).outerjoin(Refund, Refund.payment_id == PaymentRecord.id)
        .where(PaymentRecord.fine_id == fine.id).order_by(PaymentRecord.paid_at, PaymentRecord.id)
    )).all()
    views = tuple(PaymentView(record, refund) for record, refund in rows)
    fine_terms = terms_from_events(fine, await cases.case_events(db, case), await load_calendar(db))
    open_order = (await db.execute(select(PaymentOrder).where(
        PaymentOrder.fine_id == fine.id, PaymentOrder.state.in_(OPEN_STATES)))).scalar_one_or_none()
    latest_order = (await db.execute(select(PaymentOrder).where(PaymentOrder.fine_id == fine.id)
                                     .order_by(PaymentOrder.created_at.desc(), PaymentOrder.id.desc())
                                     .limit(1))).scalar_one_or_none()
    return FineView(fine=fine, case=case, agency_name=agency.name, party=party,
                    delivery_public_id=delivery.public_id if delivery else None, today=today,
                    quote=quote_for(fine_terms, today, [v.record for v in views]),
                    fine_terms=fine_terms, payments=views,
                    receipts=tuple(await receipt_views(db, fine.id)), open_order=open_order,
                    latest_order=latest_order)


async def case_fines(db: AsyncSession, case_id: int, party_id: int, today: date) -> list[FineView]:
    """The fines of a case that concern the party (for the case page)."""
    rows = (await db.execute(select(Fine).where(Fine.case_id == case_id, Fine.party_id == party_id)
                             .order_by(Fine.created_at, Fine.id))).scalars()
    return [await fine_view(db, fine, today) for fine in rows]


async def receipt_views(db: AsyncSession, fine_id: int) -> list[ReceiptView]:
    """The fine's receipts in issue order, each with its document and reversal, if any."""
    rows = list((await db.execute(select(FiscalReceipt).where(FiscalReceipt.fine_id == fine_id)
                                  .order_by(FiscalReceipt.issued_at, FiscalReceipt.id))).scalars())
    documents: dict[int, dict[str, ReceiptDocument]] = {r.id: {} for r in rows}
    if rows:
        for document in (await db.execute(select(ReceiptDocument).where(
                ReceiptDocument.receipt_id.in_(documents)).order_by(ReceiptDocument.id))).scalars():
            documents[document.receipt_id][document.format] = document
    by_id = {r.id: r for r in rows}
    reversals = {r.original_id: r for r in rows if r.original_id is not None}
    return [ReceiptView(r, documents[r.id], by_id.get(r.original_id) if r.original_id else None,
                        reversals.get(r.id)) for r in rows]
