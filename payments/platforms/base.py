"""What every payment platform adapter promises: the `PaymentPlatform` protocol and its values.

The portal never holds the money (LAW.md; APL art. 67, 78): it asks a payment platform to
collect an amount for a payment code (缴款码), sends the party there, and records what the
platform confirms with its signature. Every platform sits behind this one small interface,
and every adapter passes the same contract tests (`tests/payments/test_platform_contract.py`):

- ``create_order`` → `PayOrder`: where the party pays (a URL, and the payload of a QR code).
- ``parse_and_verify_callback`` → `CallbackNotice`: a platform's asynchronous notification,
  after its signature and timestamp were checked; raises an `UntrustedMessage` otherwise.
- ``callback_ack`` → `CallbackAck`: the HTTP answer that tells the platform, in its own
  protocol, to stop sending this notification (``ok=True``) or to send it again later.
- ``query_order`` → `OrderStatus`: the platform's view of one order, signed by it.
- ``fetch_statement`` → `Statement`: the platform's signed list of payments of one China day,
  for reconciliation.

Network failures and 5xx answers become `PlatformUnavailable`; a refusal by the platform
`PlatformRejected` (`OrderNotFound` for an unknown order). Amounts are integer fen on this
side of the interface whatever the wire format; instants are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx

from payments.errors import MalformedMessage, PlatformUnavailable
from payments.money import check_fen
from payments.states import OrderEvent

__all__ = [
    "EVENT_FOR_STATUS",
    "CallbackAck",
    "CallbackNotice",
    "OrderStatus",
    "PayOrder",
    "PaymentPlatform",
    "PlatformStatus",
    "Statement",
    "StatementLine",
    "lower_headers",
    "required_text",
    "send",
    "utcnow",
]


class PlatformStatus(StrEnum):
    """An order as the platform sees it; also the status a notification reports."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    CLOSED = "closed"


EVENT_FOR_STATUS: dict[PlatformStatus, OrderEvent] = {
    PlatformStatus.PENDING: OrderEvent.SUBMITTED,
    PlatformStatus.SUCCESS: OrderEvent.PAID,
    PlatformStatus.FAILED: OrderEvent.PAYMENT_FAILED,
    PlatformStatus.CLOSED: OrderEvent.CLOSED,
}
"""The state-machine event a platform status stands for."""


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise MalformedMessage(f"{name} must be an aware datetime")


@dataclass(frozen=True)
class PayOrder:
    """A platform order the party can pay: open ``pay_url``, or scan ``qr_payload``."""

    platform_order_id: str
    pay_url: str
    qr_payload: str


@dataclass(frozen=True)
class CallbackNotice:
    """One verified asynchronous notification from a platform.

    ``nonce`` is unique per delivery (a replayed request repeats it); ``notification_id`` is
    unique per event and stays the same when the platform sends it again. A successful payment
    carries ``paid_at`` and the platform's serial number (流水号) of the payment.
    """

    platform: str
    notification_id: str
    nonce: str
    signed_at: datetime
    order_id: str
    platform_order_id: str
    payment_code: str
    amount_fen: int
    status: PlatformStatus
    paid_at: datetime | None = None
    platform_serial: str | None = None

    def __post_init__(self) -> None:
        check_fen(self.amount_fen)
        _aware(self.signed_at, "signed_at")
        _aware(self.paid_at, "paid_at")
        if self.status is PlatformStatus.SUCCESS and (self.paid_at is None or not self.platform_serial):
            raise MalformedMessage("a success notice needs paid_at and a platform serial number")


@dataclass(frozen=True)
class CallbackAck:
    """The HTTP answer to a callback: status, body and headers, ready for the web layer."""

    status_code: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrderStatus:
    """One order as the platform reports it when asked."""

    platform_order_id: str
    order_id: str
    payment_code: str
    amount_fen: int
    status: PlatformStatus
    paid_at: datetime | None = None
    platform_serial: str | None = None

    def __post_init__(self) -> None:
        check_fen(self.amount_fen)
        _aware(self.paid_at, "paid_at")


@dataclass(frozen=True)
class StatementLine:
    """One successful payment in a platform's daily statement."""

    platform_serial: str
    platform_order_id: str
    order_id: str
    payment_code: str
    amount_fen: int
    paid_at: datetime

    def __post_init__(self) -> None:
        check_fen(self.amount_fen)
        _aware(self.paid_at, "paid_at")


@dataclass(frozen=True)
class Statement:
    """The payments a platform collected on one China date, as it signed them."""

    platform: str
    day: date
    lines: tuple[StatementLine, ...]

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


@runtime_checkable
class PaymentPlatform(Protocol):
    """A payment platform as the portal uses it."""

    @property
    def name(self) -> str:
        """Stable short name, stored with each order (``sandbox``, ``nontax``)."""
        ...

    async def create_order(
        self,
        *,
        payment_code: str,
        amount_fen: int,
        order_id: str,
        return_url: str,
        notify_url: str,
        expires_at: datetime,
    ) -> PayOrder:
        """Ask the platform to collect ``amount_fen`` for ``payment_code`` until ``expires_at``.

        ``order_id`` is the portal's id; creating the same order id again returns the same
        platform order (platforms are idempotent on it), so a retried request is safe.
        """
        ...

    def parse_and_verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> CallbackNotice:
        """Verify signature and timestamp (±300 s of ``now``) and parse; raise `UntrustedMessage`."""
        ...

    def callback_ack(self, ok: bool) -> CallbackAck:
        """The answer that makes the platform stop (``ok``) or retry the notification."""
        ...

    async def query_order(self, platform_order_id: str) -> OrderStatus:
        """The platform's signed view of one order."""
        ...

    async def fetch_statement(self, day: date) -> Statement:
        """The platform's signed daily statement for the China date ``day``."""
        ...


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive: compare them in lower case."""
    return {k.lower(): v for k, v in headers.items()}


async def send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request``; network errors and 5xx answers become `PlatformUnavailable`."""
    try:
        response = await http.send(request)
    except httpx.TransportError as exc:
        raise PlatformUnavailable(f"{type(exc).__name__} talking to the payment platform") from exc
    if response.status_code >= 500:
        raise PlatformUnavailable(f"payment platform answered HTTP {response.status_code}")
    return response


def utcnow() -> datetime:
    """The default clock of the adapters and the sandbox; tests pass their own to pin time."""
    return datetime.now(UTC)


def required_text(data: Mapping[str, Any], key: str) -> str:
    """The non-empty text field ``key`` of a platform's message, or `MalformedMessage`.

    Identifiers, payment codes and serials are text on every wire format; an adapter reads
    each of them through here so a missing or mistyped one is refused the same way everywhere.
    """
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"field {key!r} missing or not text")
    return value
