"""Fixtures of the payments tests: a fake clock, and each payment platform with its harness.

A `Harness` puts one adapter together with its platform (the sandbox ASGI app, mounted under
``/sandbox-pay`` as in development, or the non-tax counterpart) over in-process HTTP, and a
`NotifyReceiver` standing for the portal's callback endpoint: it records each delivery and
answers with the adapter's own ``callback_ack``. Platforms never really sleep here
(``no_sleep``), and tests await ``drain()`` instead of waiting for time to pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.routing import Mount

from payments import NontaxClient, PaymentPlatform, SandboxClient, UntrustedMessage
from payments.platforms.sandbox import Chaos, SandboxPlatform
from tests.conftest import font_missing
from tests.payments.nontax_counterpart import NontaxCounterpart

START = datetime(2026, 12, 9, 2, 0, 0, tzinfo=UTC)  # 10:00 China time
NOTIFY_URL = "http://portal.test/payments/notify"
RETURN_URL = "http://portal.test/fines/1/paid"
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class NotifyReceiver:
    """The portal's callback endpoint, reduced to verifying and acknowledging."""

    clock: FakeClock
    adapter: PaymentPlatform | None = None
    fail_next: int = 0
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.calls.append((dict(request.headers), body))
        assert self.adapter is not None
        ok = self.fail_next == 0
        self.fail_next = max(0, self.fail_next - 1)
        if ok:
            try:
                self.adapter.parse_and_verify_callback(dict(request.headers), body, self.clock())
            except UntrustedMessage:
                ok = False
        ack = self.adapter.callback_ack(ok)
        return httpx.Response(ack.status_code, content=ack.body, headers=list(ack.headers))


class TamperingTransport(httpx.AsyncBaseTransport):
    """Passes requests through; ``mutate`` (when set) rewrites every response body and
    ``on_response`` (when set) runs after each answer arrives, e.g. to move the clock."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.mutate: Callable[[bytes], bytes] | None = None
        self.on_response: Callable[[], None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.on_response is not None:
            self.on_response()
        if self.mutate is None:
            return response
        body = self.mutate(await response.aread())
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


@dataclass
class Harness:
    """One adapter and the platform behind it, driven the same way for every platform."""

    name: str
    adapter: PaymentPlatform
    clock: FakeClock
    receiver: NotifyReceiver
    tamper: TamperingTransport
    pay: Callable[[str], Awaitable[None]]
    cancel: Callable[[str], Awaitable[None]]
    drain: Callable[[], Awaitable[None]]
    impostor: PaymentPlatform
    """The same adapter configured with another platform key."""
    signed_garbage: Callable[[], tuple[dict[str, str], bytes]]
    """A body that is not a notification, correctly signed by the platform."""
    offline: Callable[[], PaymentPlatform]
    """The adapter with a transport that cannot connect."""
    sandbox: SandboxPlatform | None = None
    counterpart: NontaxCounterpart | None = None


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def sandbox_harness(tmp_path: Path, clock: FakeClock, chaos: Chaos | None = None) -> Harness:
    receiver = NotifyReceiver(clock)
    platform = SandboxPlatform(
        tmp_path / "sandbox-keys",
        merchant_key="merchant-key",
        public_url="http://sandbox.test/sandbox-pay",
        chaos=chaos,
        notify_http=httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)),
        clock=clock,
        sleep=no_sleep,
    )
    mounted = Starlette(routes=[Mount("/sandbox-pay", app=platform)])
    tamper = TamperingTransport(httpx.ASGITransport(app=mounted))

    def adapter(transport: httpx.AsyncBaseTransport, key: bytes = platform.public_key_pem) -> SandboxClient:
        return SandboxClient(
            base_url="http://sandbox.test/sandbox-pay",
            public_key=key,
            merchant_key="merchant-key",
            http=httpx.AsyncClient(transport=transport),
            clock=clock,
        )

    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=mounted), base_url="http://sandbox.test")

    async def decide(platform_order_id: str, action: str) -> None:
        page = await browser.get(f"/sandbox-pay/pay/{platform_order_id}")
        assert page.status_code == 200 and "确认支付" in page.text
        answer = await browser.post(f"/sandbox-pay/pay/{platform_order_id}", data={"action": action})
        assert answer.status_code == 303 and answer.headers["location"] == RETURN_URL

    async def pay(platform_order_id: str) -> None:
        await decide(platform_order_id, "pay")

    async def cancel(platform_order_id: str) -> None:
        await decide(platform_order_id, "cancel")

    def signed_garbage() -> tuple[dict[str, str], bytes]:
        body = b'{"notification_id": "n1", "order": {"amount_fen": "lots"}}'
        return platform.signed_headers(body), body

    other = Ed25519PrivateKey.generate().public_key()
    other_pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    harness = Harness(
        name="sandbox",
        adapter=adapter(tamper),
        clock=clock,
        receiver=receiver,
        tamper=tamper,
        pay=pay,
        cancel=cancel,
        drain=platform.drain,
        impostor=adapter(tamper, other_pem),
        signed_garbage=signed_garbage,
        offline=lambda: adapter(httpx.MockTransport(_refuse_connection)),
        sandbox=platform,
    )
    receiver.adapter = harness.adapter
    return harness


@pytest.fixture(scope="session")
def rsa_keys() -> dict[str, rsa.RSAPrivateKey]:
    """Generated once: RSA key generation takes a noticeable fraction of a second."""
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for name in ("portal", "platform", "other")
    }


async def nontax_harness(clock: FakeClock, rsa_keys: dict[str, rsa.RSAPrivateKey]) -> Harness:
    receiver = NotifyReceiver(clock)
    counterpart = NontaxCounterpart(
        app_id="app-350100-001",
        portal_key=rsa_keys["portal"].public_key(),
        platform_key=rsa_keys["platform"],
        notify_http=httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)),
        clock=clock,
        sleep=no_sleep,
    )
    tamper = TamperingTransport(httpx.MockTransport(counterpart.handle))

    def adapter(
        transport: httpx.AsyncBaseTransport, key: rsa.RSAPrivateKey = rsa_keys["platform"]
    ) -> NontaxClient:
        return NontaxClient(
            gateway_url="https://nontax.example/gateway",
            app_id="app-350100-001",
            private_key=rsa_keys["portal"],
            platform_key=key.public_key(),
            http=httpx.AsyncClient(transport=transport),
            clock=clock,
        )

    def signed_garbage() -> tuple[dict[str, str], bytes]:
        fields = counterpart.sign_fields(
            {
                "notify_id": "n1",
                "notify_time": "2026-12-09 10:00:00",
                "nonce": "a" * 32,
                "app_id": "app-350100-001",
            }
        )
        return {"content-type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()

    harness = Harness(
        name="nontax",
        adapter=adapter(tamper),
        clock=clock,
        receiver=receiver,
        tamper=tamper,
        pay=counterpart.pay,
        cancel=counterpart.cancel,
        drain=counterpart.drain,
        impostor=adapter(tamper, rsa_keys["other"]),
        signed_garbage=signed_garbage,
        offline=lambda: adapter(httpx.MockTransport(_refuse_connection)),
        counterpart=counterpart,
    )
    receiver.adapter = harness.adapter
    return harness


@pytest.fixture(params=["sandbox", "nontax"])
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> AsyncIterator[Harness]:
    if request.param == "sandbox":
        yield await sandbox_harness(tmp_path, clock)
    else:
        yield await nontax_harness(clock, rsa_keys)


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    if not NOTO.exists():
        font_missing("fonts-noto-cjk")
    return NOTO
