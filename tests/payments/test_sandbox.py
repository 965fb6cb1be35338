"""The sandbox payment platform: its pay page, keys, statement file, retries and chaos.

The chaos tests drive a small stand-in for the portal's callback endpoint through the real
pipeline (`verify_callback` → `check_notice` → state machine → `callback_ack`) while the
sandbox delivers late, duplicated and out-of-order notifications: every paid order must end
with exactly one recorded payment, and the platform must stop sending.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import stat
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from payments import (
    Accept,
    Duplicate,
    OrderSnapshot,
    OrderState,
    PlatformRejected,
    PlatformStatus,
    Refuse,
    RefuseReason,
    SandboxClient,
    check_notice,
    verify_callback,
)
from payments.platforms.sandbox import Chaos, SandboxPlatform
from payments.platforms.sandbox_wire import PRIVATE_KEY_FILE
from tests.payments.conftest import NOTIFY_URL, RETURN_URL, FakeClock, Harness, no_sleep, sandbox_harness

BASE = "http://sandbox.test/sandbox-pay"


@pytest.fixture
async def sandbox(tmp_path: Path, clock: FakeClock) -> Harness:
    return await sandbox_harness(tmp_path, clock)


async def _create(harness: Harness, order_id: str = "ord-1", code: str = "350100261209001", hours: int = 1):
    return await harness.adapter.create_order(
        payment_code=code,
        amount_fen=1234_56,
        order_id=order_id,
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        expires_at=harness.clock() + timedelta(hours=hours),
    )


def _browser(platform: SandboxPlatform) -> httpx.AsyncClient:
    app = Starlette(routes=[Mount("/sandbox-pay", app=platform)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test")


async def test_the_pay_page_is_chinese_and_offers_pay_and_cancel(sandbox: Harness) -> None:
    order = await _create(sandbox, code="<b>350100</b>")
    assert sandbox.sandbox is not None
    page = await _browser(sandbox.sandbox).get(f"/sandbox-pay/pay/{order.platform_order_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in ('lang="zh-CN"', "沙箱支付平台", "不会发生真实扣款", "1,234.56 元", "确认支付", "取消"):
        assert text in page.text
    assert "&lt;b&gt;350100&lt;/b&gt;" in page.text and "<b>350100" not in page.text
    assert order.pay_url == f"{BASE}/pay/{order.platform_order_id}" == order.qr_payload


async def test_an_expired_order_cannot_be_paid_and_reads_closed(sandbox: Harness) -> None:
    order = await _create(sandbox)
    sandbox.clock.advance(3601)
    assert sandbox.sandbox is not None
    browser = _browser(sandbox.sandbox)
    page = await browser.get(f"/sandbox-pay/pay/{order.platform_order_id}")
    assert page.status_code == 410 and "订单已超过有效期" in page.text
    answer = await browser.post(f"/sandbox-pay/pay/{order.platform_order_id}", data={"action": "pay"})
    assert answer.status_code == 410
    assert (await sandbox.adapter.query_order(order.platform_order_id)).status is PlatformStatus.CLOSED
    assert sandbox.receiver.calls == []


async def test_a_paid_order_cannot_be_paid_twice(sandbox: Harness) -> None:
    order = await _create(sandbox)
    await sandbox.pay(order.platform_order_id)
    assert sandbox.sandbox is not None
    browser = _browser(sandbox.sandbox)
    answer = await browser.post(f"/sandbox-pay/pay/{order.platform_order_id}", data={"action": "pay"})
    assert answer.status_code == 410 and "支付成功" in answer.text


async def test_the_api_needs_the_merchant_key(sandbox: Harness, tmp_path: Path) -> None:
    assert sandbox.sandbox is not None
    app = Starlette(routes=[Mount("/sandbox-pay", app=sandbox.sandbox)])
    intruder = SandboxClient(
        base_url=BASE,
        public_key=sandbox.sandbox.public_key_pem,
        merchant_key="guess",
        http=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)),
        clock=sandbox.clock,
    )
    with pytest.raises(PlatformRejected) as refused:
        await intruder.fetch_statement(date(2026, 12, 9))
    assert refused.value.code == "UNAUTHORISED"


@pytest.mark.parametrize("amount", [0, 12.5, "100", True])
async def test_the_api_refuses_amounts_that_are_not_positive_int_fen(
    sandbox: Harness, amount: object
) -> None:
    assert sandbox.sandbox is not None
    response = await _browser(sandbox.sandbox).post(
        "/sandbox-pay/api/orders",
        headers={"authorization": "Bearer merchant-key"},
        json={
            "order_id": "o",
            "payment_code": "c",
            "amount_fen": amount,
            "notify_url": NOTIFY_URL,
            "return_url": RETURN_URL,
            "expires_at": sandbox.clock().isoformat(),
        },
    )
    assert response.status_code == 400


async def test_the_key_pair_is_kept_in_its_directory_private_key_0600(
    tmp_path: Path, clock: FakeClock
) -> None:
    first = SandboxPlatform(tmp_path / "keys", merchant_key="k", public_url=BASE, clock=clock)
    again = SandboxPlatform(tmp_path / "keys", merchant_key="k", public_url=BASE, clock=clock)
    assert first.public_key_pem == again.public_key_pem
    assert b"PUBLIC KEY" in first.public_key_pem
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / PRIVATE_KEY_FILE).st_mode) == 0o600


async def test_the_statement_is_a_signed_csv_with_a_summary_line(sandbox: Harness) -> None:
    order = await _create(sandbox)
    await sandbox.pay(order.platform_order_id)
    assert sandbox.sandbox is not None
    response = await _browser(sandbox.sandbox).get(
        "/sandbox-pay/api/statements/2026-12-09", headers={"authorization": "Bearer merchant-key"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "x-sandbox-signature" in response.headers
    lines = response.text.splitlines()
    assert lines[0] == "# statement 2026-12-09 count=1 total_fen=123456"
    assert lines[1] == "serial,platform_order_id,order_id,payment_code,amount_fen,paid_at"
    assert lines[2].startswith("SB2026120900000001,") and ",123456,2026-12-09T02:00:00+00:00" in lines[2]


async def test_an_unreachable_portal_gets_every_retry_then_the_platform_gives_up(
    tmp_path: Path, clock
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    chaos = Chaos(retry_delays_s=(5, 30, 120))
    platform = SandboxPlatform(
        tmp_path / "k",
        merchant_key="merchant-key",
        public_url=BASE,
        chaos=chaos,
        clock=clock,
        sleep=no_sleep,
        notify_http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
    )
    client = SandboxClient(
        base_url=BASE,
        public_key=platform.public_key_pem,
        merchant_key="merchant-key",
        clock=clock,
        http=_browser(platform),
    )
    order = await client.create_order(
        payment_code="c1",
        amount_fen=100,
        order_id="o1",
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        expires_at=clock() + timedelta(hours=1),
    )
    await _browser(platform).post(f"/sandbox-pay/pay/{order.platform_order_id}", data={"action": "pay"})
    await platform.drain()
    assert [(d.attempt, d.delay_s, d.acknowledged) for d in platform.deliveries] == [
        (1, 0.0, False),
        (2, 5, False),
        (3, 30, False),
        (4, 120, False),
    ]


# -- chaos against the real decision pipeline -----------------------------------------------


@dataclass
class MiniPortal:
    """The portal's callback endpoint reduced to its decisions, with in-memory 'tables'."""

    client: SandboxClient
    clock: FakeClock
    orders: dict[str, OrderSnapshot] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)
    applied: set[str] = field(default_factory=set)
    payments: list[tuple[str, str]] = field(default_factory=list)
    decisions: list[object] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        verified = verify_callback(
            {"sandbox": self.client}, "sandbox", dict(request.headers), body, self.clock()
        )
        if isinstance(verified, Refuse):
            decision: object = verified
        else:
            order = self.orders.get(verified.order_id)
            decision = check_notice(
                verified,
                order=order,
                amount_due_fen=order.amount_fen if order else 0,
                nonce_seen=verified.nonce in self.nonces,
                notification_seen=verified.notification_id in self.applied,
                fine_settled_by=order.platform_serial if order else None,
            )
            self.nonces.add(verified.nonce)
            if isinstance(decision, Accept) and order is not None:
                serial = (
                    verified.platform_serial if decision.state is OrderState.PAID else order.platform_serial
                )
                self.orders[order.order_id] = replace(order, state=decision.state, platform_serial=serial)
                self.applied.add(verified.notification_id)
                if decision.state is OrderState.PAID:
                    self.payments.append((order.order_id, serial or ""))
        self.decisions.append(decision)
        ack = self.client.callback_ack(getattr(decision, "ack", False))
        return httpx.Response(ack.status_code, content=ack.body, headers=list(ack.headers))


class VirtualTime:
    """``sleep`` for the platform that waits on a virtual clock: delays really reorder
    deliveries, the signed timestamps move with the clock, and no test waits for real time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self.count = itertools.count()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self.sleepers, (self.clock() + timedelta(seconds=seconds), next(self.count), future))
        await future

    async def run(self, work: Awaitable[None]) -> None:
        """Run ``work``; whenever everything else is asleep, jump to the next wake-up time."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self.sleepers and not task.done():
                wake, _, future = heapq.heappop(self.sleepers)
                self.clock.now = max(self.clock.now, wake)
                future.set_result(None)
        await task


async def _run_chaos(tmp_path: Path, chaos: Chaos, orders: int = 6) -> tuple[SandboxPlatform, MiniPortal]:
    clock = FakeClock()
    time = VirtualTime(clock)
    portal_box: list[MiniPortal] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        return await portal_box[0].handle(request)

    platform = SandboxPlatform(
        tmp_path / f"keys-{chaos.seed}",
        merchant_key="merchant-key",
        public_url=BASE,
        chaos=chaos,
        clock=clock,
        sleep=time.sleep,
        notify_http=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
    )
    client = SandboxClient(
        base_url=BASE,
        public_key=platform.public_key_pem,
        merchant_key="merchant-key",
        clock=clock,
        http=_browser(platform),
    )
    portal = MiniPortal(client, clock)
    portal_box.append(portal)
    browser = _browser(platform)
    for n in range(orders):
        order_id = f"ord-{n}"
        portal.orders[order_id] = OrderSnapshot(
            "sandbox", order_id, f"code-{n}", 100_00 + n, OrderState.PENDING
        )
        order = await client.create_order(
            payment_code=f"code-{n}",
            amount_fen=100_00 + n,
            order_id=order_id,
            return_url=RETURN_URL,
            notify_url=NOTIFY_URL,
            expires_at=clock() + timedelta(hours=1),
        )
        action = "cancel" if n % 3 == 2 else "pay"
        await browser.post(f"/sandbox-pay/pay/{order.platform_order_id}", data={"action": action})
    await time.run(platform.drain())
    return platform, portal


async def test_duplicated_late_and_out_of_order_notices_record_each_payment_once(tmp_path: Path) -> None:
    chaos = Chaos(seed=7, max_delay_s=90, duplicate_rate=1.0, out_of_order_rate=1.0)
    platform, portal = await _run_chaos(tmp_path, chaos)
    paid = {f"ord-{n}" for n in range(6) if n % 3 != 2}
    assert sorted(order_id for order_id, _ in portal.payments) == sorted(paid), "one payment per paid order"
    assert {o.order_id: o.state for o in portal.orders.values()} == {
        f"ord-{n}": OrderState.CLOSED if n % 3 == 2 else OrderState.PAID for n in range(6)
    }
    # Every notification was duplicated, late, and followed by a stale "pending" one ...
    finals = [d for d in platform.deliveries if d.status is not PlatformStatus.PENDING]
    assert len(finals) == 2 * 6 and all(0 <= d.delay_s <= 90 for d in finals)
    stale = [d for d in platform.deliveries if d.status is PlatformStatus.PENDING]
    assert len(stale) == 6
    # The delays were real (on the virtual clock): deliveries went out late and out of order.
    sent = [d.sent_at for d in platform.deliveries]
    assert sent == sorted(sent) and sent[-1] - sent[0] > timedelta(seconds=30)
    created = [o.platform_order_id for o in platform.orders.values()]
    first_seen = list(dict.fromkeys(d.platform_order_id for d in finals))
    assert first_seen != created
    # ... and every one was answered so that the platform stopped.
    assert all(d.acknowledged for d in platform.deliveries)
    refusals = [d for d in portal.decisions if isinstance(d, Refuse)]
    assert {r.reason for r in refusals} == {RefuseReason.ILLEGAL_TRANSITION}
    assert not any(r.money_received for r in refusals)
    assert sum(isinstance(d, Duplicate) for d in portal.decisions) == 6


@pytest.mark.parametrize("seed", range(8))
async def test_any_seed_keeps_one_payment_per_order(tmp_path: Path, seed: int) -> None:
    chaos = Chaos(seed=seed, max_delay_s=600, duplicate_rate=0.5, out_of_order_rate=0.5)
    platform, portal = await _run_chaos(tmp_path, chaos)
    assert len(portal.payments) == len({order_id for order_id, _ in portal.payments}) == 4
    assert all(d.acknowledged for d in platform.deliveries)


async def test_the_same_seed_gives_the_same_chaos(tmp_path: Path) -> None:
    chaos = Chaos(seed=42, max_delay_s=120, duplicate_rate=0.5, out_of_order_rate=0.5)
    runs = []
    for attempt in range(2):
        platform, _ = await _run_chaos(tmp_path / str(attempt), chaos)
        runs.append([(d.platform_order_id and d.status, d.attempt, d.delay_s) for d in platform.deliveries])
    assert runs[0] == runs[1]


async def test_statement_fields_with_commas_and_quotes_survive_the_csv(sandbox: Harness) -> None:
    order = await _create(sandbox, order_id='ord,"1"', code="350,100")
    await sandbox.pay(order.platform_order_id)
    (line,) = (await sandbox.adapter.fetch_statement(date(2026, 12, 9))).lines
    assert (line.order_id, line.payment_code) == ('ord,"1"', "350,100")


async def test_closing_cancels_deliveries_in_flight(tmp_path: Path, clock: FakeClock) -> None:
    async def never(seconds: float) -> None:
        await asyncio.Event().wait()

    platform = SandboxPlatform(
        tmp_path / "k", merchant_key="merchant-key", public_url=BASE, clock=clock, sleep=never
    )
    client = SandboxClient(
        base_url=BASE,
        public_key=platform.public_key_pem,
        merchant_key="merchant-key",
        clock=clock,
        http=_browser(platform),
    )
    order = await client.create_order(
        payment_code="c1",
        amount_fen=100,
        order_id="o1",
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        expires_at=clock() + timedelta(hours=1),
    )
    await _browser(platform).post(f"/sandbox-pay/pay/{order.platform_order_id}", data={"action": "pay"})
    await platform.aclose()
    await platform.drain()
    assert platform.deliveries == []
