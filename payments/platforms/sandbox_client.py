"""The portal's adapter for the sandbox payment platform (`PaymentPlatform` over httpx).

It trusts nothing it receives until the platform's Ed25519 signature over it verifies with
the configured public key and the signed timestamp is within 300 s of the clock: API answers,
notifications and statements alike (protocol in `sandbox_wire`). It never sees the private
key; in development the portal reads the public key from the sandbox's key directory, exactly
as it would be configured with a real platform's certificate.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from payments.errors import MalformedMessage, OrderNotFound, PlatformRejected
from payments.money import check_fen
from payments.platforms import sandbox_wire as wire
from payments.platforms.base import (
    CallbackAck,
    CallbackNotice,
    OrderStatus,
    PayOrder,
    PlatformStatus,
    Statement,
    StatementLine,
    lower_headers,
    required_text,
    send,
    utcnow,
)

__all__ = ["SandboxClient"]


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedMessage("instants must be ISO 8601 text")
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise MalformedMessage("instants must carry their UTC offset")
    return parsed.astimezone(UTC)


class SandboxClient:
    """`PaymentPlatform` for the sandbox platform at ``base_url`` (e.g. ``…/sandbox-pay``)."""

    name = "sandbox"

    def __init__(
        self,
        *,
        base_url: str,
        public_key: Ed25519PublicKey | bytes,
        merchant_key: str,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = (
            public_key if isinstance(public_key, Ed25519PublicKey) else wire.load_public_key(public_key)
        )
        self._auth = {"authorization": f"Bearer {merchant_key}"}
        self._http = http
        self._clock = clock

    async def _call(self, method: str, path: str, payload: object | None = None) -> httpx.Response:
        request = self._http.build_request(method, self._base + path, headers=self._auth, json=payload)
        response = await send(self._http, request)
        wire.verify(self._key, lower_headers(response.headers), response.content, self._clock())
        if response.status_code == 404:
            raise OrderNotFound("ORDER_NOT_FOUND")
        if response.status_code != 200:
            raise PlatformRejected(self._error_code(response), f"HTTP {response.status_code}")
        return response

    @staticmethod
    def _error_code(response: httpx.Response) -> str:
        try:
            return str(response.json().get("code", response.status_code))
        except (ValueError, AttributeError):
            return str(response.status_code)

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise MalformedMessage("body is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedMessage("body is not a JSON object")
        return data

    def _order(self, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return {
                "platform_order_id": required_text(data, "platform_order_id"),
                "order_id": required_text(data, "order_id"),
                "payment_code": required_text(data, "payment_code"),
                "amount_fen": check_fen(data.get("amount_fen")),
                "status": PlatformStatus(str(data.get("status"))),
                "paid_at": _instant(data.get("paid_at")),
                "platform_serial": data.get("serial") or None,
            }
        except ValueError as exc:
            raise MalformedMessage(f"order fields: {exc}") from exc

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
        payload = {
            "order_id": order_id,
            "payment_code": payment_code,
            "amount_fen": check_fen(amount_fen),
            "notify_url": notify_url,
            "return_url": return_url,
            "expires_at": expires_at.astimezone(UTC).isoformat(),
        }
        data = self._json((await self._call("POST", "/api/orders", payload)).content)
        return PayOrder(
            platform_order_id=required_text(data, "platform_order_id"),
            pay_url=required_text(data, "pay_url"),
            qr_payload=required_text(data, "qr_payload"),
        )

    def parse_and_verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> CallbackNotice:
        signed_at, nonce = wire.verify(self._key, lower_headers(headers), body, now)
        data = self._json(body)
        order = data.get("order")
        if not isinstance(order, dict):
            raise MalformedMessage("notification without an order")
        return CallbackNotice(
            platform=self.name,
            notification_id=required_text(data, "notification_id"),
            nonce=nonce,
            signed_at=signed_at,
            **self._order(order),
        )

    def callback_ack(self, ok: bool) -> CallbackAck:
        body = {"code": "SUCCESS"} if ok else {"code": "FAIL", "message": "retry later"}
        return CallbackAck(
            200 if ok else 500, json.dumps(body).encode(), (("content-type", "application/json"),)
        )

    async def query_order(self, platform_order_id: str) -> OrderStatus:
        response = await self._call("GET", f"/api/orders/{quote(platform_order_id, safe='')}")
        return OrderStatus(**self._order(self._json(response.content)))

    @staticmethod
    def _statement_line(row: list[str]) -> StatementLine:
        serial, platform_order_id, order_id, payment_code, amount, paid_at = row
        if not (amount.isascii() and amount.isdigit()):
            raise MalformedMessage("amount_fen must be digits")
        paid = _instant(paid_at)
        if paid is None or not all((serial, platform_order_id, order_id, payment_code)):
            raise MalformedMessage("statement row with empty fields")
        return StatementLine(serial, platform_order_id, order_id, payment_code, int(amount), paid)

    async def fetch_statement(self, day: date) -> Statement:
        response = await self._call("GET", f"/api/statements/{day.isoformat()}")
        try:
            text = response.content.decode()
        except UnicodeDecodeError as exc:
            raise MalformedMessage("statement is not UTF-8") from exc
        summary, _, rest = text.partition("\n")
        try:
            rows = list(csv.reader(io.StringIO(rest), strict=True))
        except csv.Error as exc:
            raise MalformedMessage("statement is not CSV") from exc
        if not rows or tuple(rows[0]) != wire.STATEMENT_COLUMNS:
            raise MalformedMessage("statement header missing")
        try:
            lines = tuple(self._statement_line(row) for row in rows[1:])
        except ValueError as exc:
            raise MalformedMessage(f"statement row: {exc}") from exc
        expected = (
            f"# statement {day.isoformat()} count={len(lines)} total_fen={sum(x.amount_fen for x in lines)}"
        )
        if summary != expected:
            raise MalformedMessage("statement summary does not match its rows or the date asked for")
        return Statement(self.name, day, lines)
