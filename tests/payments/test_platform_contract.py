"""The contract every payment platform adapter passes: run on the sandbox and the non-tax platform.

The portal relies on exactly these behaviours, whatever platform is configured (STYLE.md,
convention 5): create an order and get somewhere to pay; a signed, verifiable notification
after payment; refusal of anything not signed by the platform or outside the ±300 s window;
an acknowledgement that stops the platform's retries and a refusal that does not; a signed
order query and a signed daily statement; typed errors for unknown orders and outages.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from payments import (
    BadSignature,
    MalformedMessage,
    OrderNotFound,
    PaymentPlatform,
    PlatformRejected,
    PlatformStatus,
    PlatformUnavailable,
    StaleTimestamp,
    UntrustedMessage,
)
from tests.payments.conftest import NOTIFY_URL, RETURN_URL, Harness

EXPIRES = timedelta(hours=12)


async def _order(
    harness: Harness, order_id: str = "ord-1", amount_fen: int = 123_45, code: str = "350100261209001"
):
    return await harness.adapter.create_order(
        payment_code=code,
        amount_fen=amount_fen,
        order_id=order_id,
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        expires_at=harness.clock() + EXPIRES,
    )


async def _paid_notice(harness: Harness, amount_fen: int = 123_45):
    order = await _order(harness, amount_fen=amount_fen)
    await harness.pay(order.platform_order_id)
    await harness.drain()
    headers, body = harness.receiver.calls[-1]
    return order, headers, body


def test_adapter_implements_the_protocol(harness: Harness) -> None:
    assert isinstance(harness.adapter, PaymentPlatform)
    assert harness.adapter.name == harness.name


async def test_create_order_gives_a_pay_url_and_qr_and_the_platform_reports_it_pending(
    harness: Harness,
) -> None:
    order = await _order(harness)
    assert order.pay_url.startswith(("http://", "https://"))
    assert order.qr_payload
    status = await harness.adapter.query_order(order.platform_order_id)
    assert status.status is PlatformStatus.PENDING
    assert (status.order_id, status.payment_code, status.amount_fen) == ("ord-1", "350100261209001", 123_45)
    assert status.paid_at is None and status.platform_serial is None


async def test_create_order_is_idempotent_on_the_portal_order_id(harness: Harness) -> None:
    first = await _order(harness)
    again = await _order(harness)
    assert again.platform_order_id == first.platform_order_id


async def test_same_order_id_with_another_amount_is_refused(harness: Harness) -> None:
    await _order(harness)
    with pytest.raises(PlatformRejected):
        await _order(harness, amount_fen=999)


async def test_payment_is_notified_with_a_signed_callback_that_verifies(harness: Harness) -> None:
    order, headers, body = await _paid_notice(harness)
    notice = harness.adapter.parse_and_verify_callback(headers, body, harness.clock())
    assert notice.platform == harness.name
    assert notice.status is PlatformStatus.SUCCESS
    assert (notice.order_id, notice.platform_order_id) == ("ord-1", order.platform_order_id)
    assert (notice.payment_code, notice.amount_fen) == ("350100261209001", 123_45)
    assert notice.paid_at == harness.clock()
    assert notice.platform_serial and notice.notification_id and notice.nonce
    assert notice.signed_at == harness.clock()


@pytest.mark.parametrize("amount_fen", [1, 10, 100, 12_345, 100_000_07, 9_999_999_999_99])
async def test_amounts_cross_the_wire_exactly(harness: Harness, amount_fen: int) -> None:
    _, headers, body = await _paid_notice(harness, amount_fen=amount_fen)
    assert harness.adapter.parse_and_verify_callback(headers, body, harness.clock()).amount_fen == amount_fen


async def test_query_after_payment_reports_the_same_serial_and_time(harness: Harness) -> None:
    order, headers, body = await _paid_notice(harness)
    notice = harness.adapter.parse_and_verify_callback(headers, body, harness.clock())
    status = await harness.adapter.query_order(order.platform_order_id)
    assert status.status is PlatformStatus.SUCCESS
    assert (status.platform_serial, status.paid_at) == (notice.platform_serial, notice.paid_at)


async def test_cancelling_is_notified_as_closed(harness: Harness) -> None:
    order = await _order(harness)
    await harness.cancel(order.platform_order_id)
    await harness.drain()
    headers, body = harness.receiver.calls[-1]
    notice = harness.adapter.parse_and_verify_callback(headers, body, harness.clock())
    assert notice.status is PlatformStatus.CLOSED and notice.platform_serial is None
    assert (await harness.adapter.query_order(order.platform_order_id)).status is PlatformStatus.CLOSED


async def test_a_changed_body_is_a_bad_signature(harness: Harness) -> None:
    _, headers, body = await _paid_notice(harness, amount_fen=123_45)
    forged = body.replace(b"123", b"124", 1)
    assert forged != body
    with pytest.raises(BadSignature):
        harness.adapter.parse_and_verify_callback(headers, forged, harness.clock())


async def test_a_callback_not_signed_with_the_configured_key_is_refused(harness: Harness) -> None:
    _, headers, body = await _paid_notice(harness)
    with pytest.raises(BadSignature):
        harness.impostor.parse_and_verify_callback(headers, body, harness.clock())


async def test_a_callback_without_signature_is_refused(harness: Harness) -> None:
    _, headers, body = await _paid_notice(harness)
    unsigned_headers = {k: v for k, v in headers.items() if "signature" not in k}
    unsigned_body = b"&".join(p for p in body.split(b"&") if not p.startswith(b"sign="))
    with pytest.raises(BadSignature):
        harness.adapter.parse_and_verify_callback(unsigned_headers, unsigned_body, harness.clock())


@pytest.mark.parametrize("offset_s", [-300, 0, 300])
async def test_timestamps_within_300_seconds_are_accepted(harness: Harness, offset_s: int) -> None:
    _, headers, body = await _paid_notice(harness)
    now = harness.clock() + timedelta(seconds=offset_s)
    assert harness.adapter.parse_and_verify_callback(headers, body, now).status is PlatformStatus.SUCCESS


@pytest.mark.parametrize("offset_s", [-301, 301, 86_400])
async def test_timestamps_beyond_300_seconds_are_stale(harness: Harness, offset_s: int) -> None:
    _, headers, body = await _paid_notice(harness)
    with pytest.raises(StaleTimestamp):
        harness.adapter.parse_and_verify_callback(
            headers, body, harness.clock() + timedelta(seconds=offset_s)
        )


async def test_a_signed_message_that_is_not_a_notification_is_malformed(harness: Harness) -> None:
    headers, body = harness.signed_garbage()
    with pytest.raises(MalformedMessage):
        harness.adapter.parse_and_verify_callback(headers, body, harness.clock())


async def test_refusing_makes_the_platform_retry_and_acknowledging_makes_it_stop(harness: Harness) -> None:
    harness.receiver.fail_next = 2
    await _paid_notice(harness)
    assert len(harness.receiver.calls) == 3
    notices = [
        harness.adapter.parse_and_verify_callback(h, b, harness.clock()) for h, b in harness.receiver.calls
    ]
    assert len({n.notification_id for n in notices}) == 1, "a retry keeps its notification id"
    assert len({n.nonce for n in notices}) == 3, "every delivery has a fresh nonce"
    await harness.drain()
    assert len(harness.receiver.calls) == 3, "nothing more after the acknowledgement"


def test_acknowledgements_are_distinct_answers(harness: Harness) -> None:
    ok, fail = harness.adapter.callback_ack(True), harness.adapter.callback_ack(False)
    assert (ok.status_code, ok.body) != (fail.status_code, fail.body)


async def test_the_daily_statement_lists_that_days_payments(harness: Harness) -> None:
    first, headers, body = await _paid_notice(harness)
    notice = harness.adapter.parse_and_verify_callback(headers, body, harness.clock())
    second = await _order(harness, order_id="ord-2", amount_fen=50_00, code="350100261209002")
    await harness.pay(second.platform_order_id)
    unpaid = await _order(harness, order_id="ord-3", amount_fen=70_00, code="350100261209003")
    await harness.drain()
    statement = await harness.adapter.fetch_statement(date(2026, 12, 9))
    assert statement.platform == harness.name and statement.day == date(2026, 12, 9)
    assert {line.platform_order_id for line in statement.lines} == {
        first.platform_order_id,
        second.platform_order_id,
    }
    assert unpaid.platform_order_id not in {line.platform_order_id for line in statement.lines}
    line = next(x for x in statement.lines if x.platform_order_id == first.platform_order_id)
    assert (line.platform_serial, line.amount_fen, line.paid_at) == (
        notice.platform_serial,
        123_45,
        notice.paid_at,
    )
    assert statement.total_fen == 123_45 + 50_00
    assert (await harness.adapter.fetch_statement(date(2026, 12, 10))).lines == ()


async def test_a_tampered_statement_is_refused(harness: Harness) -> None:
    await _paid_notice(harness)
    harness.tamper.mutate = lambda body: body.replace(b"123", b"923")
    with pytest.raises(UntrustedMessage):
        await harness.adapter.fetch_statement(date(2026, 12, 9))


async def test_a_tampered_query_answer_is_refused(harness: Harness) -> None:
    order = await _order(harness)
    harness.tamper.mutate = lambda body: body.replace(b"12345", b"12346").replace(b"123.45", b"123.46")
    with pytest.raises(BadSignature):
        await harness.adapter.query_order(order.platform_order_id)


async def test_an_answer_that_took_over_300_seconds_is_stale(harness: Harness) -> None:
    order = await _order(harness)
    harness.tamper.on_response = lambda: harness.clock.advance(301)
    with pytest.raises(StaleTimestamp):
        await harness.adapter.query_order(order.platform_order_id)


async def test_an_unknown_order_is_order_not_found(harness: Harness) -> None:
    with pytest.raises(OrderNotFound):
        await harness.adapter.query_order("NO-SUCH-ORDER")


async def test_an_unreachable_platform_is_unavailable(harness: Harness) -> None:
    with pytest.raises(PlatformUnavailable):
        await harness.offline().query_order("X")
