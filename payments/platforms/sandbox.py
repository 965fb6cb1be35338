"""The sandbox payment platform: the embedded default, behaving like a real one.

It stands for an outside system, so it is its own small Starlette app (the one place in
`payments` that uses a web framework), mounted by the portal under ``/sandbox-pay`` in
development only. It speaks the protocol in `sandbox_wire` and keeps its orders in memory:

- ``POST /api/orders`` creates an order (idempotent on the portal's order id),
  ``GET /api/orders/{id}`` reports one, ``GET /api/statements/{YYYY-MM-DD}`` returns the signed
  CSV statement of a China date. All three need the merchant key and answer signed.
- ``GET /pay/{id}`` is the pay page (Chinese, a plain form: 确认支付 / 取消); posting it pays or
  cancels the order and redirects the party to the portal's return URL. Like a real
  platform's cashier page it is for the payer alone: ``payer`` (given by the portal, which
  mounts this app behind its session and CSRF middleware) answers the form's CSRF token when
  the visitor is the order's payer, and anyone else sees "order not found".
- After a payment or a cancellation it sends signed notifications to the order's notify URL,
  asynchronously, retrying until the portal answers ``{"code": "SUCCESS"}``.

Real platforms are unreliable in known ways, and the portal must cope, so `Chaos` makes this
one sometimes late (a random delay before each notification), sometimes duplicated (the same
notification id delivered twice at once) and sometimes out of order (a stale "pending" notice
arriving after the final one). The randomness comes from ``Chaos.seed``, and ``sleep`` and
``clock`` are injectable, so tests are deterministic and never really wait; `drain` awaits
every delivery in flight. `deliveries` records each attempt for tests and developers.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import itertools
import json
import random
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from payments.catalogue import SANDBOX_PAGE as T
from payments.money import check_fen, format_yuan
from payments.platforms import sandbox_wire as wire
from payments.platforms.base import PlatformStatus, utcnow

__all__ = ["Chaos", "DeliveryAttempt", "PayerCheck", "SandboxOrder", "SandboxPlatform"]

_CHINA = ZoneInfo("Asia/Shanghai")

PayerCheck = Callable[[Request, str], Awaitable[str | None]]
"""(the pay page's request, the merchant's order id) → the CSRF token for the pay form when
the visitor is that order's payer, else None (the page then shows "order not found")."""


@dataclass(frozen=True)
class Chaos:
    """How unreliable the sandbox is; all zero (the default) is a perfectly polite platform."""

    seed: int = 0
    max_delay_s: float = 0.0
    duplicate_rate: float = 0.0
    out_of_order_rate: float = 0.0
    retry_delays_s: tuple[float, ...] = (5, 30, 120, 600, 1800)
    """Waits before each retry of an unacknowledged notification; then it gives up."""


@dataclass(frozen=True)
class SandboxOrder:
    platform_order_id: str
    order_id: str
    payment_code: str
    amount_fen: int
    notify_url: str
    return_url: str
    expires_at: datetime
    status: PlatformStatus = PlatformStatus.PENDING
    paid_at: datetime | None = None
    serial: str | None = None

    def wire(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.astimezone(UTC).isoformat() if value else None

        return {
            "platform_order_id": self.platform_order_id,
            "order_id": self.order_id,
            "payment_code": self.payment_code,
            "amount_fen": self.amount_fen,
            "status": self.status.value,
            "expires_at": iso(self.expires_at),
            "paid_at": iso(self.paid_at),
            "serial": self.serial,
        }


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver a notification; ``acknowledged`` when the portal said SUCCESS."""

    notification_id: str
    platform_order_id: str
    status: PlatformStatus
    attempt: int
    delay_s: float
    sent_at: datetime
    http_status: int | None
    acknowledged: bool


class SandboxPlatform:
    """The sandbox platform as an ASGI app; see the module docstring."""

    def __init__(
        self,
        key_dir: Path,
        *,
        merchant_key: str,
        public_url: str,
        chaos: Chaos | None = None,
        notify_http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        payer: PayerCheck | None = None,
    ) -> None:
        self._payer = payer
        self._key = wire.load_or_create_key(key_dir)
        self.key_dir = key_dir
        self._merchant_key = merchant_key
        self.public_url = public_url.rstrip("/")
        self.chaos = chaos or Chaos()
        # Chaos is a simulation, not security: a seeded PRNG makes test runs repeatable.
        self._rng = random.Random(self.chaos.seed)  # noqa: S311
        self._own_http = notify_http is None
        self._notify_http = notify_http or httpx.AsyncClient(timeout=10)
        self._clock = clock
        self._sleep = sleep
        self._serials = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.orders: dict[str, SandboxOrder] = {}
        self.deliveries: list[DeliveryAttempt] = []
        self.app = Starlette(
            routes=[
                Route("/api/orders", self._create, methods=["POST"]),
                Route("/api/orders/{platform_order_id}", self._query, methods=["GET"]),
                Route("/api/statements/{day}", self._statement, methods=["GET"]),
                Route("/pay/{platform_order_id}", self._page, methods=["GET"]),
                Route("/pay/{platform_order_id}", self._decide, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    @property
    def public_key_pem(self) -> bytes:
        return (self.key_dir / wire.PUBLIC_KEY_FILE).read_bytes()

    def signed_headers(self, body: bytes) -> dict[str, str]:
        """The signature headers for ``body`` as of now (also for crafting test messages)."""
        return wire.sign(self._key, body, self._clock())

    async def drain(self) -> None:
        """Wait until every notification in flight was acknowledged or given up."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def aclose(self) -> None:
        """Stop sending (pending deliveries are cancelled) and close the client it made."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_http:
            await self._notify_http.aclose()

    # -- API -------------------------------------------------------------------------------

    def _signed(self, payload: object, status: int = 200, media: str = "application/json") -> Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        return Response(body, status, headers=self.signed_headers(body), media_type=media)

    def _error(self, status: int, code: str) -> Response:
        return self._signed({"code": code}, status)

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {self._merchant_key}".encode())

    async def _create(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, "UNAUTHORISED")
        try:
            data = json.loads(await request.body())
            expires_at = datetime.fromisoformat(data["expires_at"])
            fields = {k: data[k] for k in ("order_id", "payment_code", "notify_url", "return_url")}
            if not all(isinstance(v, str) and v for v in fields.values()) or expires_at.utcoffset() is None:
                raise ValueError("bad field")
            amount = check_fen(data["amount_fen"])
        except (ValueError, KeyError, TypeError):
            return self._error(400, "INVALID_REQUEST")
        if amount == 0:
            return self._error(400, "INVALID_AMOUNT")
        existing = next((o for o in self.orders.values() if o.order_id == fields["order_id"]), None)
        if existing is None:
            order = SandboxOrder(
                platform_order_id="SBX" + secrets.token_hex(10).upper(),
                amount_fen=amount,
                expires_at=expires_at,
                **fields,
            )
            self.orders[order.platform_order_id] = order
        elif (existing.payment_code, existing.amount_fen) != (fields["payment_code"], amount):
            return self._error(409, "ORDER_CONFLICT")
        else:
            order = existing
        pay_url = f"{self.public_url}/pay/{order.platform_order_id}"
        return self._signed(
            {"platform_order_id": order.platform_order_id, "pay_url": pay_url, "qr_payload": pay_url}
        )

    def _current(self, platform_order_id: str) -> SandboxOrder | None:
        """The order, closed first if it expired unpaid (as real platforms close them)."""
        order = self.orders.get(platform_order_id)
        if order is not None and order.status is PlatformStatus.PENDING and self._clock() > order.expires_at:
            order = replace(order, status=PlatformStatus.CLOSED)
            self.orders[platform_order_id] = order
        return order

    async def _query(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, "UNAUTHORISED")
        order = self._current(request.path_params["platform_order_id"])
        if order is None:
            return self._error(404, "ORDER_NOT_FOUND")
        return self._signed(order.wire())

    async def _statement(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, "UNAUTHORISED")
        try:
            day = date.fromisoformat(request.path_params["day"])
        except ValueError:
            return self._error(400, "INVALID_REQUEST")
        paid = sorted(
            (o for o in self.orders.values() if o.paid_at and o.paid_at.astimezone(_CHINA).date() == day),
            key=lambda o: (o.paid_at, o.serial),
        )
        out = io.StringIO()
        out.write(
            f"# statement {day.isoformat()} count={len(paid)} total_fen={sum(o.amount_fen for o in paid)}\n"
        )
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(wire.STATEMENT_COLUMNS)
        for o in paid:
            paid_at = o.paid_at.astimezone(UTC).isoformat() if o.paid_at else ""
            writer.writerow(
                (o.serial, o.platform_order_id, o.order_id, o.payment_code, o.amount_fen, paid_at)
            )
        return self._signed(out.getvalue().encode(), media="text/csv; charset=utf-8")

    # -- pay page ----------------------------------------------------------------------------

    def _html(self, body: str, status: int = 200) -> HTMLResponse:
        page = (
            f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{T['title']}</title></head><body><main><h1>{T['title']}</h1>"
            f"<p><strong>{T['banner']}</strong></p>{body}</main></body></html>"
        )
        return HTMLResponse(page, status)

    async def _payer_token(self, request: Request, order: SandboxOrder | None) -> str | None:
        """The pay form's CSRF token ("" without a payer check), None when the visitor may not
        see the order."""
        if order is None:
            return None
        if self._payer is None:
            return ""
        return await self._payer(request, order.order_id)

    def _not_found(self) -> HTMLResponse:
        return self._html(f"<p>{T['not_found'] if self._payer is None else T['not_payer']}</p>", 404)

    async def _page(self, request: Request) -> Response:
        order = self._current(request.path_params["platform_order_id"])
        token = await self._payer_token(request, order)
        if order is None or token is None:
            return self._not_found()
        facts = (
            f"<dl><dt>{T['payment_code']}</dt><dd>{html.escape(order.payment_code)}</dd>"
            f"<dt>{T['amount']}</dt><dd>{format_yuan(order.amount_fen)} {T['yuan']}</dd>"
            f"<dt>{T['order']}</dt><dd>{html.escape(order.platform_order_id)}</dd></dl>"
        )
        if order.status is PlatformStatus.SUCCESS:
            return self._html(facts + f"<p>{T['paid']}</p>")
        if order.status is PlatformStatus.CLOSED:
            return self._html(facts + f"<p>{self._closed_text(order)}</p>", 410)
        hidden = f'<input type="hidden" name="csrf_token" value="{html.escape(token)}">' if token else ""
        form = (
            f'<form method="post">{hidden}'
            f'<button type="submit" name="action" value="pay">{T["pay"]}</button> '
            f'<button type="submit" name="action" value="cancel">{T["cancel"]}</button></form>'
        )
        return self._html(facts + form)

    def _closed_text(self, order: SandboxOrder) -> str:
        if order.status is PlatformStatus.SUCCESS:
            return T["paid"]
        return T["expired"] if self._clock() > order.expires_at else T["closed"]

    async def _decide(self, request: Request) -> Response:
        platform_order_id = request.path_params["platform_order_id"]
        order = self._current(platform_order_id)
        if order is None or await self._payer_token(request, order) is None:
            return self._not_found()
        if order.status is not PlatformStatus.PENDING:
            return self._html(f"<p>{self._closed_text(order)}</p>", 410)
        action = (await request.form()).get("action")
        now = self._clock()
        if action == "pay":
            serial = f"SB{now.astimezone(_CHINA):%Y%m%d}{next(self._serials):08d}"
            order = replace(order, status=PlatformStatus.SUCCESS, paid_at=now, serial=serial)
        elif action == "cancel":
            order = replace(order, status=PlatformStatus.CLOSED)
        else:
            return self._html(f"<p>{T['not_found']}</p>", 400)
        self.orders[platform_order_id] = order
        self._notify(order)
        return RedirectResponse(order.return_url, status_code=303)

    # -- notifications -------------------------------------------------------------------------

    def _notify(self, order: SandboxOrder) -> None:
        """Plan this event's deliveries now (so the seed decides them in event order)."""
        final_id = "N" + secrets.token_hex(12)
        copies = 2 if self._rng.random() < self.chaos.duplicate_rate else 1
        stale = self._rng.random() < self.chaos.out_of_order_rate
        delays = [self._rng.uniform(0, self.chaos.max_delay_s) for _ in range(copies)]
        for i, delay in enumerate(delays):
            self._spawn(self._deliver_then(final_id, order, delay, stale and i == 0))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_then(
        self, notification_id: str, order: SandboxOrder, delay: float, stale: bool
    ) -> None:
        await self._deliver(notification_id, order, delay)
        if stale:
            # A "pending" notice that was held up somewhere arrives after the final one.
            old = replace(order, status=PlatformStatus.PENDING, paid_at=None, serial=None)
            await self._deliver("N" + secrets.token_hex(12), old, 0.0)

    async def _deliver(self, notification_id: str, order: SandboxOrder, delay: float) -> None:
        body = json.dumps({"notification_id": notification_id, "order": order.wire()}).encode()
        waits = (delay, *self.chaos.retry_delays_s)
        for attempt, wait in enumerate(waits, start=1):
            await self._sleep(wait)
            sent_at = self._clock()
            headers = {"content-type": "application/json", **self.signed_headers(body)}
            status: int | None = None
            ok = False
            try:
                response = await self._notify_http.post(order.notify_url, content=body, headers=headers)
                status = response.status_code
                ok = status == 200 and response.json().get("code") == "SUCCESS"
            except (httpx.HTTPError, ValueError, AttributeError):
                ok = False
            self.deliveries.append(
                DeliveryAttempt(
                    notification_id, order.platform_order_id, order.status, attempt, wait, sent_at, status, ok
                )
            )
            if ok:
                return
