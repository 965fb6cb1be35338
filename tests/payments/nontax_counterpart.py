"""A faithful counterpart of the provincial non-tax payment platform, for the contract tests.

It implements the platform's side of the protocol documented in `payments.platforms.nontax`
on its own (canonical string, RSA signatures, yuan amounts, China-time timestamps), without
importing the adapter, so a mistake in the adapter's reading of the protocol fails here. It
verifies every request the portal signs, signs every answer and notification with its own
key, pays and closes orders when a test says the party did, sends form-encoded notifications
until the portal answers ``success``, and serves bills.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

CHINA = ZoneInfo("Asia/Shanghai")
FORMAT = "%Y-%m-%d %H:%M:%S"


def canonical(fields: dict[str, str]) -> bytes:
    pairs = [f"{key}={fields[key]}" for key in sorted(fields) if key != "sign" and fields[key]]
    return "&".join(pairs).encode("utf-8")


def china(instant: datetime) -> str:
    return instant.astimezone(CHINA).strftime(FORMAT)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text: str) -> int:
    whole, frac = text.split(".")
    assert len(frac) == 2
    return int(whole) * 100 + int(frac)


@dataclass
class Trade:
    trade_no: str
    out_trade_no: str
    pay_code: str
    amount_fen: int
    notify_url: str
    time_expire: datetime
    status: str = "WAIT_PAY"
    pay_time: datetime | None = None
    serial: str = ""


@dataclass(frozen=True)
class Delivery:
    notify_id: str
    trade_no: str
    status: str
    attempt: int
    acknowledged: bool


class NontaxCounterpart:
    def __init__(
        self,
        *,
        app_id: str,
        portal_key: RSAPublicKey,
        platform_key: RSAPrivateKey,
        notify_http: httpx.AsyncClient,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        retry_delays: tuple[float, ...] = (2, 10, 60),
    ) -> None:
        self.app_id = app_id
        self.portal_key = portal_key
        self.platform_key = platform_key
        self.notify_http = notify_http
        self.clock = clock
        self.sleep = sleep
        self.retry_delays = retry_delays
        self.trades: dict[str, Trade] = {}
        self.deliveries: list[Delivery] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.serials = 0

    def sign_fields(self, fields: dict[str, str]) -> dict[str, str]:
        signature = self.platform_key.sign(canonical(fields), padding.PKCS1v15(), hashes.SHA256())
        return {**fields, "sign": base64.b64encode(signature).decode()}

    def answer(
        self, code: str = "10000", biz: dict[str, str] | None = None, sub_code: str = ""
    ) -> httpx.Response:
        fields = {
            "code": code,
            "msg": "Success" if code == "10000" else "Business Failed",
            "sub_code": sub_code,
            "timestamp": china(self.clock()),
            "nonce": secrets.token_hex(16),
            "sign_type": "RSA2",
            "biz_content": json.dumps(biz or {}, ensure_ascii=False),
        }
        return httpx.Response(200, json=self.sign_fields(fields))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        envelope = json.loads(await request.aread())
        try:
            self.portal_key.verify(
                base64.b64decode(envelope["sign"]), canonical(envelope), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, KeyError, ValueError):
            return self.answer("40002", sub_code="INVALID_SIGNATURE")
        sent = datetime.strptime(envelope["timestamp"], FORMAT).replace(tzinfo=CHINA)
        if envelope["app_id"] != self.app_id or abs(sent - self.clock()) > timedelta(seconds=300):
            return self.answer("40002", sub_code="INVALID_REQUEST")
        biz = json.loads(envelope["biz_content"])
        if envelope["method"] == "nontax.pay.create":
            return self.create(biz)
        if envelope["method"] == "nontax.pay.query":
            trade = self.trades.get(biz["trade_no"])
            if trade is None:
                return self.answer("40004", sub_code="TRADE_NOT_EXIST")
            return self.answer(biz=self.trade_fields(trade))
        if envelope["method"] == "nontax.bill.download":
            return self.bill(biz["bill_date"])
        return self.answer("40004", sub_code="INVALID_METHOD")

    def create(self, biz: dict[str, str]) -> httpx.Response:
        for trade in self.trades.values():
            if trade.out_trade_no == biz["out_trade_no"]:
                if (trade.pay_code, yuan(trade.amount_fen)) != (biz["pay_code"], biz["total_amount"]):
                    return self.answer("40004", sub_code="TRADE_CONFLICT")
                break
        else:
            trade = Trade(
                trade_no="NT" + "".join(secrets.choice("0123456789") for _ in range(18)),
                out_trade_no=biz["out_trade_no"],
                pay_code=biz["pay_code"],
                amount_fen=fen(biz["total_amount"]),
                notify_url=biz["notify_url"],
                time_expire=datetime.strptime(biz["time_expire"], FORMAT).replace(tzinfo=CHINA),
            )
            self.trades[trade.trade_no] = trade
        url = f"https://pay.nontax.example/cashier?trade_no={trade.trade_no}"
        return self.answer(biz={"trade_no": trade.trade_no, "pay_url": url, "qr_code": url})

    def trade_fields(self, trade: Trade) -> dict[str, str]:
        return {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "pay_code": trade.pay_code,
            "total_amount": yuan(trade.amount_fen),
            "trade_status": trade.status,
            "pay_time": china(trade.pay_time) if trade.pay_time else "",
            "pay_serial_no": trade.serial,
        }

    def bill(self, bill_date: str) -> httpx.Response:
        paid = [t for t in self.trades.values() if t.pay_time and china(t.pay_time)[:10] == bill_date]
        lines = [
            f"{t.serial}|{t.trade_no}|{t.out_trade_no}|{t.pay_code}|{yuan(t.amount_fen)}|{china(t.pay_time)}"
            for t in paid
            if t.pay_time
        ]
        total = yuan(sum(t.amount_fen for t in paid))
        biz = {
            "bill_date": bill_date,
            "count": str(len(lines)),
            "total_amount": total,
            "bill": "\n".join(lines),
        }
        return self.answer(biz=biz)

    # -- what the party does, and what the platform sends -------------------------------------

    async def pay(self, trade_no: str) -> None:
        trade = self.trades[trade_no]
        now = self.clock()
        assert trade.status == "WAIT_PAY" and now <= trade.time_expire
        self.serials += 1
        trade.status, trade.pay_time = "PAID", now
        trade.serial = f"FS{china(now)[:10].replace('-', '')}{self.serials:010d}"
        self.spawn(self.deliver(trade))

    async def cancel(self, trade_no: str) -> None:
        self.trades[trade_no].status = "CLOSED"
        self.spawn(self.deliver(self.trades[trade_no]))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    def notification(self, trade: Trade, notify_id: str) -> bytes:
        fields = {
            **self.trade_fields(trade),
            "notify_id": notify_id,
            "notify_time": china(self.clock()),
            "nonce": secrets.token_hex(16),
            "app_id": self.app_id,
            "sign_type": "RSA2",
        }
        return urlencode(self.sign_fields(fields)).encode()

    async def deliver(self, trade: Trade) -> None:
        notify_id = secrets.token_hex(12)
        for attempt, wait in enumerate((0.0, *self.retry_delays), start=1):
            await self.sleep(wait)
            response = await self.notify_http.post(
                trade.notify_url,
                content=self.notification(trade, notify_id),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            ok = response.status_code == 200 and response.content == b"success"
            self.deliveries.append(Delivery(notify_id, trade.trade_no, trade.status, attempt, ok))
            if ok:
                return
