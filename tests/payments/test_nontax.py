"""The non-tax platform adapter's reading of its protocol, beyond the shared contract.

The counterpart verifies every request the adapter signs, so the contract tests already show
the adapter signs correctly; these tests pin the protocol's details: the canonical string,
amounts as yuan text with two decimals, China-time timestamps, the application id, and what
the platform answers to a request signed with the wrong key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from payments import MalformedMessage, NontaxClient, PlatformRejected
from payments.platforms.nontax import canonical_string, china_time, parse_china_time, yuan_text
from tests.payments.conftest import FakeClock, Harness, nontax_harness


@pytest.fixture
async def nontax(clock: FakeClock, rsa_keys: dict[str, rsa.RSAPrivateKey]) -> Harness:
    return await nontax_harness(clock, rsa_keys)


def test_the_canonical_string_sorts_fields_and_drops_sign_and_empty_values() -> None:
    fields = {"nonce": "n", "app_id": "a", "sign": "S", "sub_code": "", "biz_content": '{"x":"1"}'}
    assert canonical_string(fields) == b'app_id=a&biz_content={"x":"1"}&nonce=n'


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (1, "0.01"), (1234_56, "1234.56"), (10**12, "10000000000.00")]
)
def test_amounts_are_yuan_with_two_decimals_and_no_separators(fen: int, text: str) -> None:
    assert yuan_text(fen) == text


def test_times_are_china_time_to_the_second() -> None:
    instant = datetime(2026, 12, 8, 16, 30, 5, tzinfo=UTC)
    assert china_time(instant) == "2026-12-09 00:30:05"
    assert parse_china_time("2026-12-09 00:30:05") == instant
    with pytest.raises(MalformedMessage):
        parse_china_time("2026-12-09T00:30:05+08:00")


async def _notification(nontax: Harness, **changes: str) -> tuple[dict[str, str], bytes]:
    order = await nontax.adapter.create_order(
        payment_code="35010026120900012345",
        amount_fen=500_00,
        order_id="ord-9",
        return_url="r",
        notify_url="http://portal.test/n",
        expires_at=nontax.clock() + timedelta(hours=12),
    )
    await nontax.pay(order.platform_order_id)
    await nontax.drain()
    headers, body = nontax.receiver.calls[-1]
    if changes:
        assert nontax.counterpart is not None
        fields = {**dict(parse_qsl(body.decode())), **changes}
        body = urlencode(nontax.counterpart.sign_fields(fields)).encode()
    return headers, body


async def test_the_notification_carries_the_payment_code_amount_and_serial(nontax: Harness) -> None:
    _, body = await _notification(nontax)
    fields = dict(parse_qsl(body.decode()))
    assert (fields["pay_code"], fields["total_amount"], fields["trade_status"]) == (
        "35010026120900012345",
        "500.00",
        "PAID",
    )
    assert fields["pay_serial_no"].startswith("FS20261209")


@pytest.mark.parametrize(
    "changes",
    [
        {"app_id": "someone-else"},
        {"total_amount": "500.0"},
        {"total_amount": "5,000.00"},
        {"total_amount": "-1.00"},
        {"trade_status": "MAYBE"},
        {"pay_time": "yesterday"},
        {"out_trade_no": ""},
    ],
    ids=["other app", "one decimal", "separator", "negative", "status", "time", "empty order id"],
)
async def test_signed_notifications_with_bad_fields_are_malformed(
    nontax: Harness, changes: dict[str, str]
) -> None:
    headers, body = await _notification(nontax, **changes)
    with pytest.raises(MalformedMessage):
        nontax.adapter.parse_and_verify_callback(headers, body, nontax.clock())


async def test_a_repeated_field_is_malformed(nontax: Harness) -> None:
    headers, body = await _notification(nontax)
    with pytest.raises(MalformedMessage):
        nontax.adapter.parse_and_verify_callback(headers, body + b"&total_amount=1.00", nontax.clock())


async def test_the_platform_refuses_a_request_signed_with_another_key(
    nontax: Harness, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    assert nontax.counterpart is not None
    stranger = NontaxClient(
        gateway_url="https://nontax.example/gateway",
        app_id="app-350100-001",
        private_key=rsa_keys["other"],
        platform_key=rsa_keys["platform"].public_key(),
        clock=nontax.clock,
        http=httpx.AsyncClient(transport=httpx.MockTransport(nontax.counterpart.handle)),
    )
    with pytest.raises(PlatformRejected) as refused:
        await stranger.query_order("NT1")
    assert refused.value.code == "INVALID_SIGNATURE"


async def test_a_bill_whose_count_or_total_does_not_match_its_lines_is_refused(nontax: Harness) -> None:
    await _notification(nontax)
    counterpart = nontax.counterpart
    assert counterpart is not None

    def inconsistent(bill_date: str) -> httpx.Response:
        biz = {"bill_date": bill_date, "count": "2", "total_amount": "1.00", "bill": ""}
        return counterpart.answer(biz=biz)

    counterpart.bill = inconsistent  # type: ignore[method-assign]
    with pytest.raises(MalformedMessage):
        await nontax.adapter.fetch_statement(date(2026, 12, 9))


async def test_a_bill_for_another_date_is_refused(nontax: Harness) -> None:
    counterpart = nontax.counterpart
    assert counterpart is not None
    original = counterpart.bill
    counterpart.bill = lambda bill_date: original("2026-12-08")  # type: ignore[method-assign]
    with pytest.raises(MalformedMessage):
        await nontax.adapter.fetch_statement(date(2026, 12, 9))
