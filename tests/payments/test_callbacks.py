"""Callback handling: every refusal with its stable reason code, acceptance, duplicates, double payment.

Each refusal also says whether the platform is told to stop (``ack``) or to retry, and
whether the notice reports money that the portal must record for a refund or a review.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from payments import (
    Accept,
    BadSignature,
    CallbackNotice,
    Duplicate,
    MalformedMessage,
    OrderEvent,
    OrderSnapshot,
    OrderState,
    PlatformStatus,
    Refuse,
    RefuseReason,
    StaleTimestamp,
    UntrustedMessage,
    check_notice,
    check_timestamp,
    verify_callback,
)
from payments.callbacks import check_nonce, verify_ed25519
from payments.catalogue import REFUSAL
from tests.payments.conftest import NOTIFY_URL, RETURN_URL, FakeClock, sandbox_harness

PAID_AT = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
NOTICE = CallbackNotice(
    platform="sandbox",
    notification_id="N1",
    nonce="0123456789abcdef0123456789abcdef",
    signed_at=PAID_AT,
    order_id="ord-1",
    platform_order_id="SBX1",
    payment_code="350100261209001",
    amount_fen=1000_00,
    status=PlatformStatus.SUCCESS,
    paid_at=PAID_AT,
    platform_serial="SERIAL-1",
)
ORDER = OrderSnapshot(
    platform="sandbox",
    order_id="ord-1",
    payment_code="350100261209001",
    amount_fen=1000_00,
    state=OrderState.PENDING,
)


def decide(notice: CallbackNotice = NOTICE, **context: object):
    args: dict[str, object] = {
        "order": ORDER,
        "amount_due_fen": 1000_00,
        "nonce_seen": False,
        "notification_seen": False,
        "fine_settled_by": None,
        **context,
    }
    return check_notice(notice, **args)  # type: ignore[arg-type]


def test_a_fresh_payment_for_the_amount_due_is_accepted() -> None:
    decision = decide()
    assert decision == Accept(NOTICE, OrderEvent.PAID, OrderState.PAID)
    assert decision.ack and not decision.refund_required


def test_a_replayed_nonce_is_refused_and_not_acknowledged() -> None:
    decision = decide(nonce_seen=True)
    assert decision == Refuse(RefuseReason.REPLAYED, ack=False)


def test_a_notification_already_applied_is_a_duplicate_and_acknowledged() -> None:
    decision = decide(notification_seen=True)
    assert isinstance(decision, Duplicate) and decision.why == "notification_seen" and decision.ack


@pytest.mark.parametrize(
    "order",
    [None, replace(ORDER, payment_code="350100261209999"), replace(ORDER, order_id="ord-2")],
    ids=["no order", "other payment code", "other order id"],
)
def test_an_unknown_payment_code_is_refused_so_the_platform_retries(order: OrderSnapshot | None) -> None:
    assert decide(order=order) == Refuse(RefuseReason.UNKNOWN_PAYMENT_CODE, ack=False)


def test_a_notice_from_another_platform_than_the_orders_is_refused() -> None:
    assert decide(order=replace(ORDER, platform="nontax")) == Refuse(
        RefuseReason.PLATFORM_MISMATCH, ack=False
    )


def test_an_amount_other_than_the_order_is_refused_and_recorded_for_refund() -> None:
    decision = decide(replace(NOTICE, amount_fen=999_00), amount_due_fen=999_00)
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.AMOUNT_MISMATCH
    assert decision.ack and decision.money_received


def test_a_payment_after_midnight_is_checked_against_that_days_amount() -> None:  # LAW.md: design rule
    # The order was created for yesterday's quote; paid at 00:01 today the amount due is larger.
    decision = decide(amount_due_fen=1030_00)
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.AMOUNT_MISMATCH
    assert decision.ack and decision.money_received


def test_the_same_payment_under_a_new_notification_id_is_a_duplicate() -> None:
    paid = replace(ORDER, state=OrderState.PAID, platform_serial="SERIAL-1")
    decision = decide(replace(NOTICE, notification_id="N2"), order=paid, fine_settled_by="SERIAL-1")
    assert isinstance(decision, Duplicate) and decision.why == "same_serial"


def test_a_second_payment_on_another_order_of_a_paid_fine_is_accepted_and_flagged_for_refund() -> None:
    second = replace(NOTICE, order_id="ord-2", platform_order_id="SBX2", platform_serial="SERIAL-2")
    order = replace(ORDER, order_id="ord-2")
    decision = decide(second, order=order, fine_settled_by="SERIAL-1", amount_due_fen=0)
    assert isinstance(decision, Accept)
    assert (decision.state, decision.changed, decision.refund_required, decision.ack) == (
        OrderState.PAID,
        True,
        True,
        True,
    )


def test_a_second_payment_on_the_same_order_is_flagged_for_refund_not_swallowed() -> None:
    paid = replace(ORDER, state=OrderState.PAID, platform_serial="SERIAL-1")
    decision = decide(replace(NOTICE, notification_id="N2", platform_serial="SERIAL-2"), order=paid)
    assert isinstance(decision, Accept) and decision.refund_required and not decision.changed


def test_a_second_payment_on_a_closed_order_is_still_recorded_for_refund() -> None:
    closed = replace(ORDER, state=OrderState.CLOSED)
    decision = decide(replace(NOTICE, platform_serial="SERIAL-2"), order=closed, fine_settled_by="SERIAL-1")
    assert isinstance(decision, Accept) and decision.refund_required and decision.state is OrderState.CLOSED


def test_a_repeated_status_is_a_duplicate() -> None:
    closed = replace(NOTICE, status=PlatformStatus.CLOSED, paid_at=None, platform_serial=None)
    decision = decide(closed, order=replace(ORDER, state=OrderState.CLOSED))
    assert isinstance(decision, Duplicate) and decision.why == "repeated_status"


def test_an_out_of_order_pending_notice_after_payment_is_refused_but_acknowledged() -> None:
    stale = replace(NOTICE, status=PlatformStatus.PENDING, paid_at=None, platform_serial=None)
    decision = decide(stale, order=replace(ORDER, state=OrderState.PAID, platform_serial="SERIAL-1"))
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.ILLEGAL_TRANSITION
    assert decision.ack and not decision.money_received
    assert "submitted" in decision.detail and "paid" in decision.detail


def test_a_payment_notice_for_a_closed_order_is_refused_and_its_money_recorded() -> None:
    decision = decide(order=replace(ORDER, state=OrderState.CLOSED))
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.ILLEGAL_TRANSITION
    assert decision.ack and decision.money_received


def test_a_late_payment_notice_for_an_expired_order_is_accepted() -> None:
    decision = decide(order=replace(ORDER, state=OrderState.EXPIRED))
    assert isinstance(decision, Accept) and decision.state is OrderState.PAID


def test_a_failed_payment_moves_a_pending_order_to_failed() -> None:
    failed = replace(NOTICE, status=PlatformStatus.FAILED, paid_at=None, platform_serial=None)
    assert decide(failed) == Accept(failed, OrderEvent.PAYMENT_FAILED, OrderState.FAILED)


def test_every_reason_has_a_chinese_text_and_a_stable_code() -> None:
    assert {r.value for r in RefuseReason} == set(REFUSAL)
    assert all(r.text for r in RefuseReason)
    assert RefuseReason.BAD_SIGNATURE.value == BadSignature.reason
    assert RefuseReason.STALE_TIMESTAMP.value == StaleTimestamp.reason
    assert RefuseReason.MALFORMED.value == MalformedMessage.reason


# -- the verification step --------------------------------------------------------------------


@pytest.fixture
async def sandbox(tmp_path: Path, clock: FakeClock):
    harness = await sandbox_harness(tmp_path, clock)
    order = await harness.adapter.create_order(
        payment_code="350100261209001",
        amount_fen=1000_00,
        order_id="ord-1",
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        expires_at=clock() + timedelta(hours=1),
    )
    await harness.pay(order.platform_order_id)
    await harness.drain()
    return harness


async def test_verify_callback_returns_the_notice(sandbox) -> None:
    headers, body = sandbox.receiver.calls[-1]
    notice = verify_callback({"sandbox": sandbox.adapter}, "sandbox", headers, body, sandbox.clock())
    assert isinstance(notice, CallbackNotice) and notice.amount_fen == 1000_00


async def test_verify_callback_refuses_an_unknown_platform(sandbox) -> None:
    headers, body = sandbox.receiver.calls[-1]
    decision = verify_callback({"sandbox": sandbox.adapter}, "alipay", headers, body, sandbox.clock())
    assert decision == Refuse(RefuseReason.UNKNOWN_PLATFORM, ack=False)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda h, b, now: (h, b + b" ", now), RefuseReason.BAD_SIGNATURE),
        (lambda h, b, now: ({**h, "x-sandbox-signature": "not base64!"}, b, now), RefuseReason.BAD_SIGNATURE),
        (lambda h, b, now: (h, b, now + timedelta(seconds=301)), RefuseReason.STALE_TIMESTAMP),
        (lambda h, b, now: ({**h, "x-sandbox-nonce": "short"}, b, now), RefuseReason.BAD_SIGNATURE),
    ],
    ids=["changed body", "garbled signature", "stale", "nonce changed"],
)
async def test_verify_callback_refusals_ask_the_platform_to_retry(sandbox, mangle, reason) -> None:
    headers, body, now = mangle(*sandbox.receiver.calls[-1], sandbox.clock())
    decision = verify_callback({"sandbox": sandbox.adapter}, "sandbox", headers, body, now)
    assert isinstance(decision, Refuse) and (decision.reason, decision.ack) == (reason, False)


async def test_verify_callback_refuses_a_signed_non_notification_as_malformed(sandbox) -> None:
    body = b'{"notification_id": "x"}'
    decision = verify_callback(
        {"sandbox": sandbox.adapter}, "sandbox", sandbox.sandbox.signed_headers(body), body, sandbox.clock()
    )
    assert isinstance(decision, Refuse) and decision.reason is RefuseReason.MALFORMED


# -- the pure helpers ---------------------------------------------------------------------------


def test_the_timestamp_window_is_300_seconds_inclusive() -> None:
    for offset in (-300, 300):
        check_timestamp(PAID_AT + timedelta(seconds=offset), PAID_AT)
    for offset in (-301, 301):
        with pytest.raises(StaleTimestamp):
            check_timestamp(PAID_AT + timedelta(seconds=offset), PAID_AT)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(MalformedMessage):
        check_timestamp(PAID_AT.replace(tzinfo=None), PAID_AT)


@pytest.mark.parametrize("nonce", ["", "short", "x" * 65, "0123456789abcdef/", "0123456789abcdef 0"])
def test_malformed_nonces_are_refused(nonce: str) -> None:
    with pytest.raises(MalformedMessage):
        check_nonce(nonce)


@pytest.mark.parametrize("signature", [None, "", "%%%", base64.b64encode(b"x" * 64).decode()])
def test_signature_helpers_raise_bad_signature(signature: str | None) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(BadSignature):
        verify_ed25519(key.public_key(), b"message", signature)
    verify_ed25519(key.public_key(), b"message", base64.b64encode(key.sign(b"message")).decode())


def test_untrusted_messages_carry_a_reason_and_no_body() -> None:
    error = BadSignature("signature does not verify")
    assert isinstance(error, UntrustedMessage) and error.reason == "bad_signature"
