"""The second-payment rule (`payments.decide_notice`): worked examples and properties.

Rules under test (LAW.md, "Fines, payment, receipts"; `payments.callbacks`): a fine already
paid is never paid twice — another successful payment for it is accepted, acknowledged and
flagged for refund; under an instalment plan (APL art. 66) a payment on an order whose
instalments were paid meanwhile through another order is refunded, not taken as an advance on
the next instalment; a payment whose serial is on file is a duplicate; money is applied only
when it is exactly the amount due that day and what the order asked for, so applied money
never exceeds what the fine owes; money the platform took that is not applied is recorded for
a refund, never dropped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from payments import (
    Accept,
    CallbackNotice,
    Duplicate,
    Fine,
    FineOnFile,
    InstalmentPlan,
    OrderSnapshot,
    OrderState,
    Payment,
    PaymentOnFile,
    PlatformStatus,
    Refuse,
    RefuseReason,
    Terms,
    check_notice,
    decide_notice,
)

DUE = date(2026, 12, 8)
MADE = datetime(2026, 11, 23, tzinfo=UTC)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def notice(serial: str, paid_on: date, amount_fen: int, order_id: str = "ord-1") -> CallbackNotice:
    paid_at = datetime.combine(paid_on, time(2), UTC)  # 10:00 China time: the same date
    return CallbackNotice(platform="sandbox", notification_id=f"N-{serial}", nonce="n" * 32,
                          signed_at=paid_at, order_id=order_id, platform_order_id="SBX",
                          payment_code="350100261209001", amount_fen=amount_fen,
                          status=PlatformStatus.SUCCESS, paid_at=paid_at, platform_serial=serial)


def order(amount_fen: int, order_id: str = "ord-1", serial: str | None = None) -> OrderSnapshot:
    state = OrderState.PAID if serial else OrderState.PENDING
    return OrderSnapshot("sandbox", order_id, "350100261209001", amount_fen, state, serial)


def decide(seen: CallbackNotice, snapshot: OrderSnapshot, fine: FineOnFile, *, nonce_seen: bool = False):
    assert seen.paid_at is not None
    return decide_notice(seen, order=snapshot, fine=fine, paid_on=seen.paid_at.date(),
                         nonce_seen=nonce_seen, notification_seen=False)


# -- worked examples -------------------------------------------------------------------------

PLAN = Terms(Fine(900_00, DUE), plan=InstalmentPlan.of([(DUE, 300_00), (DUE + days(30), 300_00),
                                                        (DUE + days(60), 300_00)]))


def test_a_fresh_payment_of_the_amount_due_is_applied() -> None:
    fine = FineOnFile(Terms(Fine(1000_00, DUE)), (), MADE, DUE - days(1))
    decision = decide(notice("S1", DUE, 1000_00), order(1000_00), fine)
    assert isinstance(decision, Accept) and not decision.refund_required


def test_a_second_payment_through_another_order_of_a_paid_fine_is_flagged_for_refund() -> None:
    paid = PaymentOnFile("S1", DUE - days(1), 1000_00, True, MADE + days(1))
    fine = FineOnFile(Terms(Fine(1000_00, DUE)), (paid,), MADE, DUE - days(1))
    decision = decide(notice("S2", DUE, 1000_00, "ord-2"), order(1000_00, "ord-2"), fine)
    assert isinstance(decision, Accept) and decision.refund_required


def test_an_instalment_paid_meanwhile_makes_its_orders_payment_a_refund_not_an_advance() -> None:
    # Order ord-2 was made for instalment 1; ord-1 paid it an hour later; ord-2's money arrives.
    paid = PaymentOnFile("S1", DUE - days(1), 300_00, True, MADE + timedelta(hours=1))
    fine = FineOnFile(PLAN, (paid,), MADE, DUE - days(1))
    decision = decide(notice("S2", DUE - days(1), 300_00, "ord-2"), order(300_00, "ord-2"), fine)
    assert isinstance(decision, Accept) and decision.refund_required


def test_an_order_made_after_an_instalment_was_paid_collects_the_next_one() -> None:
    paid = PaymentOnFile("S1", DUE - days(1), 300_00, True, MADE - timedelta(hours=1))
    fine = FineOnFile(PLAN, (paid,), MADE, DUE - days(1))
    decision = decide(notice("S2", DUE - days(1), 300_00, "ord-2"), order(300_00, "ord-2"), fine)
    assert isinstance(decision, Accept) and not decision.refund_required


def test_a_payment_already_on_file_reported_by_another_order_is_a_duplicate() -> None:
    paid = PaymentOnFile("S1", DUE, 1000_00, True, MADE + days(1))
    fine = FineOnFile(Terms(Fine(1000_00, DUE)), (paid,), MADE, DUE)
    decision = decide(notice("S1", DUE, 1000_00, "ord-2"), order(1000_00, "ord-2"), fine)
    assert isinstance(decision, Duplicate) and decision.why == "serial_recorded"
    replayed = decide(notice("S1", DUE, 1000_00, "ord-2"), order(1000_00, "ord-2"), fine, nonce_seen=True)
    assert isinstance(replayed, Refuse) and replayed.reason is RefuseReason.REPLAYED


def test_without_a_paid_at_nothing_is_due_and_nothing_settled() -> None:
    closed = replace(notice("S1", DUE, 1000_00), status=PlatformStatus.CLOSED, paid_at=None,
                     platform_serial=None)
    fine = FineOnFile(Terms(Fine(1000_00, DUE)), (), MADE, DUE)
    got = decide_notice(closed, order=order(1000_00), fine=fine, paid_on=None, nonce_seen=False,
                        notification_seen=False)
    assert got == check_notice(closed, order=order(1000_00), amount_due_fen=0, nonce_seen=False,
                               notification_seen=False, fine_settled_by=None)


# -- properties ------------------------------------------------------------------------------


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    amount = draw(st.integers(min_value=1, max_value=10**7))
    due = DUE + days(draw(st.integers(min_value=-400, max_value=400)))
    parts = draw(st.integers(min_value=1, max_value=3))
    if parts == 1 or amount < parts:
        return Terms(Fine(amount, due, surcharge_applies=draw(st.booleans())))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=amount - 1),
                               min_size=parts - 1, max_size=parts - 1)))
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, amount], strict=True)]
    gaps = draw(st.lists(st.integers(min_value=1, max_value=40), min_size=parts, max_size=parts))
    plan = InstalmentPlan.of((due + days(sum(gaps[:i])), a) for i, a in enumerate(amounts))
    return Terms(Fine(amount, due), plan=plan)


def applied(fine: Terms, on_file: list[PaymentOnFile] | tuple[PaymentOnFile, ...], on: date):
    return fine.quote(on, [Payment(p.paid_on, p.amount_fen) for p in on_file if p.applied])


@st.composite
def situations(draw: st.DrawFn) -> tuple[FineOnFile, OrderSnapshot, CallbackNotice]:
    """A fine with the payments the portal applied (each the amount due on its day, as only
    those are applied), an order made between two of them for its day's amount, and a
    successful notice for that order: a new payment or one on file, of the order's amount or
    another."""
    fine = draw(terms())
    day = fine.fine.due_date + days(draw(st.integers(min_value=-14, max_value=60)))
    on_file: list[PaymentOnFile] = []
    recorded = MADE
    for n in range(draw(st.integers(min_value=0, max_value=3))):
        day += days(draw(st.integers(min_value=0, max_value=20)))
        owed = applied(fine, on_file, day).pay_now_fen
        if not owed:
            break
        recorded += timedelta(hours=1)
        on_file.append(PaymentOnFile(f"S{n}", day, owed, True, recorded))
    made_after = draw(st.integers(min_value=0, max_value=len(on_file)))
    known = on_file[:made_after]
    quote_date = known[-1].paid_on if known else fine.fine.due_date - days(draw(st.integers(0, 14)))
    asked = applied(fine, known, quote_date).pay_now_fen
    assume(asked > 0)  # a settled fine gets no order
    made_at = (known[-1].recorded_at if known else MADE) + timedelta(minutes=30)
    later = max([quote_date, *(p.paid_on for p in on_file)])
    paid_on = later + days(draw(st.integers(min_value=0, max_value=3)))
    serial = draw(st.sampled_from(["NEW", *(p.serial for p in on_file)]))
    amount = draw(st.one_of(st.just(asked), st.integers(min_value=1, max_value=3 * fine.fine.amount_fen)))
    return (FineOnFile(fine, tuple(on_file), made_at, quote_date), order(asked),
            notice(serial, paid_on, amount))


@settings(max_examples=300)
@given(situations())
def test_a_paid_fine_is_never_paid_twice(situation) -> None:
    fine, snapshot, seen = situation
    assert seen.paid_at is not None
    decision = decide(seen, snapshot, fine)
    if seen.platform_serial in {p.serial for p in fine.payments}:
        assert isinstance(decision, Duplicate)
    elif applied(fine.terms, fine.payments, seen.paid_at.date()).settled:
        assert isinstance(decision, Accept) and decision.refund_required


@settings(max_examples=300)
@given(situations())
def test_applied_money_is_the_orders_amount_the_amount_due_and_never_more_than_owed(situation) -> None:
    fine, snapshot, seen = situation
    assert seen.paid_at is not None
    decision = decide(seen, snapshot, fine)
    if isinstance(decision, Accept) and not decision.refund_required:
        on = seen.paid_at.date()
        assert seen.amount_fen == snapshot.amount_fen == applied(fine.terms, fine.payments, on).pay_now_fen
        after = [*fine.payments, PaymentOnFile("NEW", on, seen.amount_fen, True, fine.order_made_at)]
        assert applied(fine.terms, after, on).overpaid_fen == 0


@settings(max_examples=300)
@given(situations())
def test_money_taken_for_a_new_payment_is_applied_or_kept_for_refund_never_dropped(situation) -> None:
    fine, snapshot, seen = situation
    assume(seen.platform_serial == "NEW")
    decision = decide(seen, snapshot, fine)
    assert isinstance(decision, Accept) or (isinstance(decision, Refuse) and decision.money_received
                                            and decision.ack)
    if isinstance(decision, Refuse):
        assert decision.reason is RefuseReason.AMOUNT_MISMATCH


@settings(max_examples=200)
@given(situations())
def test_a_replayed_delivery_is_refused_whatever_the_fine(situation) -> None:
    fine, snapshot, seen = situation
    decision = decide(seen, snapshot, fine, nonce_seen=True)
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.REPLAYED and not decision.ack


@settings(max_examples=200)
@given(situations())
def test_with_nothing_paid_the_decision_is_check_notice_on_that_days_amount(situation) -> None:
    fine, snapshot, seen = situation
    assert seen.paid_at is not None
    fresh = replace(fine, payments=())
    on = seen.paid_at.date()
    assert decide(seen, snapshot, fresh) == check_notice(
        seen, order=snapshot, amount_due_fen=fresh.terms.quote(on).pay_now_fen, nonce_seen=False,
        notification_seen=False, fine_settled_by=None)
