"""Adapter for the provincial non-tax revenue payment platform (非税收入统一缴款平台).

Fines are non-tax revenue: the party pays through the province's non-tax platform, which
pays the treasury and reports back (APL art. 67, 78; State Council Decree 235). We cannot
reach a real one from here, so this adapter implements the protocol below, modelled on the
signed-envelope open APIs these platforms publish, and the contract tests run it against a
faithful counterpart in `tests/payments/nontax_counterpart.py` that signs what it sends.

**Envelope.** Every call is ``POST <gateway_url>`` with a JSON object: ``app_id`` (the agency
application's id), ``method`` (``nontax.pay.create`` | ``nontax.pay.query`` |
``nontax.bill.download``), ``charset`` ``UTF-8``, ``sign_type`` ``RSA2``, ``timestamp``
(``yyyy-MM-dd HH:mm:ss`` China time), ``nonce`` (32 hex digits), ``version`` ``2.0``,
``biz_content`` (the method's fields as JSON text) and ``sign``. Answers are the same shape
with ``code`` (``10000`` = success), ``msg``, ``sub_code`` on errors, and ``biz_content``.

**Signature.** ``sign`` is base64 of RSA PKCS#1 v1.5 with SHA-256 over the canonical string:
every field except ``sign`` whose value is not empty, sorted by name, as ``name=value``
joined with ``&``, UTF-8. The portal signs requests with its private key; the platform signs
answers and notifications with its own; each side holds the other's public key. A timestamp
more than 300 s from the receiver's clock is refused.

**Fields.** ``out_trade_no`` our order id; ``trade_no`` the platform's; ``pay_code`` the
缴款码; ``total_amount`` yuan with exactly two decimals (``"123.45"``, parsed exactly, never
as a float); ``time_expire``/``pay_time`` China time; ``pay_serial_no`` the payment serial
(缴款流水号); ``trade_status`` ``WAIT_PAY`` | ``PAID`` | ``FAILED`` | ``CLOSED``.

**Notifications** are form-encoded POSTs of the flat fields above plus ``notify_id``,
``notify_time`` (the signed timestamp), ``nonce``, ``app_id``, ``sign_type`` and ``sign``.
The platform stops on a body of exactly ``success`` and retries on anything else.

**Bills.** ``nontax.bill.download`` with ``bill_date`` answers ``bill_date``, ``count``,
``total_amount`` and ``bill``: lines of ``pay_serial_no|trade_no|out_trade_no|pay_code|
total_amount|pay_time``, separated by ``\\n``.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from payments.callbacks import check_nonce, check_timestamp, verify_rsa_sha256
from payments.errors import MalformedMessage, OrderNotFound, PlatformRejected
from payments.money import check_fen, parse_yuan
from payments.platforms.base import (
    CallbackAck,
    CallbackNotice,
    OrderStatus,
    PayOrder,
    PlatformStatus,
    Statement,
    StatementLine,
    required_text,
    send,
    utcnow,
)

__all__ = ["NontaxClient", "canonical_string", "china_time", "parse_china_time", "yuan_text"]

_CHINA = ZoneInfo("Asia/Shanghai")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_SUCCESS = "10000"
_STATUS = {
    "WAIT_PAY": PlatformStatus.PENDING,
    "PAID": PlatformStatus.SUCCESS,
    "FAILED": PlatformStatus.FAILED,
    "CLOSED": PlatformStatus.CLOSED,
}


def canonical_string(fields: Mapping[str, str]) -> bytes:
    """The bytes both sides sign: non-empty fields but ``sign``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "sign" and v != "").encode()


def china_time(instant: datetime) -> str:
    return instant.astimezone(_CHINA).strftime(_TIME_FORMAT)


def parse_china_time(text: str) -> datetime:
    """``yyyy-MM-dd HH:mm:ss`` in China time, as an aware UTC instant."""
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=_CHINA).astimezone(UTC)
    except (TypeError, ValueError) as exc:
        raise MalformedMessage("time is not yyyy-MM-dd HH:mm:ss") from exc


def yuan_text(fen: int) -> str:
    """``12345`` → ``"123.45"``: the wire format of amounts, without separators."""
    yuan, cents = divmod(check_fen(fen), 100)
    return f"{yuan}.{cents:02d}"


def _amount(text: object) -> int:
    if not isinstance(text, str) or "," in text or len(text.partition(".")[2]) != 2:
        raise MalformedMessage("amount must be yuan with exactly two decimals")
    try:
        return check_fen(parse_yuan(text))
    except ValueError as exc:
        raise MalformedMessage(f"amount: {exc}") from exc


class NontaxClient:
    """`PaymentPlatform` for the provincial non-tax payment platform at ``gateway_url``."""

    name = "nontax"

    def __init__(
        self,
        *,
        gateway_url: str,
        app_id: str,
        private_key: RSAPrivateKey,
        platform_key: RSAPublicKey,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._url = gateway_url
        self._app_id = app_id
        self._private_key = private_key
        self._platform_key = platform_key
        self._http = http
        self._clock = clock

    def _verify(self, fields: Mapping[str, str], now: datetime, time_field: str) -> tuple[datetime, str]:
        """Check the platform's signature, timestamp window and nonce of a flat field set."""
        verify_rsa_sha256(self._platform_key, canonical_string(fields), fields.get("sign"))
        signed_at = parse_china_time(fields.get(time_field, ""))
        check_timestamp(signed_at, now)
        return signed_at, check_nonce(fields.get("nonce", ""))

    async def _call(self, method: str, biz: Mapping[str, str]) -> dict[str, Any]:
        now = self._clock()
        envelope = {
            "app_id": self._app_id,
            "method": method,
            "charset": "UTF-8",
            "sign_type": "RSA2",
            "timestamp": china_time(now),
            "nonce": secrets.token_hex(16),
            "version": "2.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        signature = self._private_key.sign(canonical_string(envelope), padding.PKCS1v15(), hashes.SHA256())
        envelope["sign"] = base64.b64encode(signature).decode()
        response = await send(self._http, self._http.build_request("POST", self._url, json=envelope))
        try:
            answer = response.json()
        except ValueError as exc:
            raise MalformedMessage("answer is not JSON") from exc
        if not isinstance(answer, dict) or not all(isinstance(v, str) for v in answer.values()):
            raise MalformedMessage("answer is not a flat object of text fields")
        self._verify(answer, self._clock(), "timestamp")
        if answer.get("code") != _SUCCESS:
            if answer.get("sub_code") == "TRADE_NOT_EXIST":
                raise OrderNotFound("TRADE_NOT_EXIST", answer.get("msg", ""))
            raise PlatformRejected(answer.get("sub_code") or answer.get("code", "?"), answer.get("msg", ""))
        try:
            biz_answer = json.loads(answer.get("biz_content", ""))
        except ValueError as exc:
            raise MalformedMessage("biz_content is not JSON") from exc
        if not isinstance(biz_answer, dict):
            raise MalformedMessage("biz_content is not an object")
        return biz_answer

    @staticmethod
    def _trade(data: Mapping[str, Any]) -> dict[str, Any]:
        status = _STATUS.get(str(data.get("trade_status")))
        if status is None:
            raise MalformedMessage("unknown trade_status")
        paid_at = parse_china_time(data["pay_time"]) if data.get("pay_time") else None
        return {
            "platform_order_id": required_text(data, "trade_no"),
            "order_id": required_text(data, "out_trade_no"),
            "payment_code": required_text(data, "pay_code"),
            "amount_fen": _amount(data.get("total_amount")),
            "status": status,
            "paid_at": paid_at,
            "platform_serial": data.get("pay_serial_no") or None,
        }

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
        answer = await self._call(
            "nontax.pay.create",
            {
                "out_trade_no": order_id,
                "pay_code": payment_code,
                "total_amount": yuan_text(amount_fen),
                "notify_url": notify_url,
                "return_url": return_url,
                "time_expire": china_time(expires_at),
            },
        )
        return PayOrder(
            platform_order_id=required_text(answer, "trade_no"),
            pay_url=required_text(answer, "pay_url"),
            qr_payload=required_text(answer, "qr_code"),
        )

    def parse_and_verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> CallbackNotice:
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedMessage("notification is not form-encoded UTF-8") from exc
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise MalformedMessage("repeated field in notification")
        signed_at, nonce = self._verify(fields, now, "notify_time")
        if fields.get("app_id") != self._app_id:
            raise MalformedMessage("notification for another application")
        return CallbackNotice(
            platform=self.name,
            notification_id=required_text(fields, "notify_id"),
            nonce=nonce,
            signed_at=signed_at,
            **self._trade(fields),
        )

    def callback_ack(self, ok: bool) -> CallbackAck:
        return CallbackAck(
            200, b"success" if ok else b"fail", (("content-type", "text/plain; charset=utf-8"),)
        )

    async def query_order(self, platform_order_id: str) -> OrderStatus:
        answer = await self._call("nontax.pay.query", {"trade_no": platform_order_id})
        return OrderStatus(**self._trade(answer))

    async def fetch_statement(self, day: date) -> Statement:
        answer = await self._call("nontax.bill.download", {"bill_date": day.isoformat()})
        if answer.get("bill_date") != day.isoformat():
            raise MalformedMessage("bill for another date")
        lines = []
        for row in filter(None, str(answer.get("bill", "")).split("\n")):
            parts = row.split("|")
            if len(parts) != 6 or not all(parts):
                raise MalformedMessage("bill line does not have six fields")
            serial, trade_no, out_trade_no, pay_code, amount, pay_time = parts
            lines.append(
                StatementLine(
                    serial, trade_no, out_trade_no, pay_code, _amount(amount), parse_china_time(pay_time)
                )
            )
        total = sum(line.amount_fen for line in lines)
        if answer.get("count") != str(len(lines)) or answer.get("total_amount") != yuan_text(total):
            raise MalformedMessage("bill count or total does not match its lines")
        return Statement(self.name, day, tuple(lines))
