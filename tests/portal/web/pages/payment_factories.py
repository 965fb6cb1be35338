"""What the payment tests do with a fine (``tests.builders.fine_world``): a pay click, an
order placed, and callbacks signed with the sandbox platform's key exactly as it signs them.

The app of ``tests/conftest.py`` mounts the sandbox platform at ``/sandbox-pay`` (no real
platform is configured), talking to the app in-process both ways, so a pay click creates a
real platform order and the callbacks these helpers craft are verified by the real adapter.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from payments.platforms import sandbox_wire
from portal.database import transaction
from portal.legal_calendar import china_date
from portal.models.payments import Fine, PaymentOrder
from portal.payment_platforms import sandbox_key_dir
from portal.services import fine_views, payment_orders
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from tests.builders import FineWorld
from tests.conftest import CSRF_RE, Database

CALLBACK = "/api/v1/payments/callbacks/sandbox"


async def click_pay(http: httpx.AsyncClient, fine_id: str) -> httpx.Response:
    page = await http.get(f"/fines/{fine_id}")
    token = CSRF_RE.search(page.text)
    assert token, page.text
    return await http.post(f"/fines/{fine_id}/pay", data={"csrf_token": token.group(1)})


async def place_order(app: Starlette, database: Database, fw: FineWorld,
                      now: datetime | None = None) -> PaymentOrder:
    """What a pay click does, without the browser: the open order, placed on the platform."""
    platforms = app.state.payments
    now = now or datetime.now(UTC)
    async with transaction(database.sessions) as db:
        fine = await db.get(Fine, fw.fine_pk)
        assert fine is not None
        view = await fine_views.fine_view(db, fine, china_date(now))
        order = await payment_orders.open_order(db, fine.id, view.quote, platform="sandbox",
                                                actor="party:test", now=now)
    placed = await platforms.active.create_order(
        payment_code=fw.payment_code, amount_fen=order.amount_fen, order_id=order.public_id,
        return_url=platforms.return_url(fw.fine_id), notify_url=platforms.notify_url("sandbox"),
        expires_at=order.expires_at)
    async with transaction(database.sessions) as db:
        return await payment_orders.record_platform_order(db, order.id, placed, now=now)


async def open_order(database: Database, fine_pk: int) -> PaymentOrder:
    async with database.sessions() as db:
        return (await db.execute(select(PaymentOrder).where(
            PaymentOrder.fine_id == fine_pk).order_by(PaymentOrder.id.desc()).limit(1))).scalar_one()


def notice_body(order: PaymentOrder, payment_code: str, *, status: str = "success",
                amount_fen: int | None = None, paid_at: datetime | None = None,
                serial: str | None = None, notification_id: str | None = None,
                order_id: str | None = None) -> bytes:
    """A sandbox notification about ``order``, as the platform would send it."""
    paid = status == "success"
    wire: dict[str, Any] = {
        "platform_order_id": order.platform_order_id or "SBX" + secrets.token_hex(10).upper(),
        "order_id": order_id or order.public_id, "payment_code": payment_code,
        "amount_fen": order.amount_fen if amount_fen is None else amount_fen, "status": status,
        "expires_at": order.expires_at.isoformat(),
        "paid_at": (paid_at or datetime.now(UTC)).isoformat() if paid else None,
        "serial": (serial or "SB" + secrets.token_hex(8).upper()) if paid else None,
    }
    return json.dumps({"notification_id": notification_id or "N" + secrets.token_hex(12),
                       "order": wire}).encode()


def signed(settings: Settings, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
    """The sandbox platform's signature headers over ``body`` (its own key, a fresh nonce)."""
    key = sandbox_wire.load_or_create_key(sandbox_key_dir(settings.data_dir))
    return {"content-type": "application/json",
            **sandbox_wire.sign(key, body, at or datetime.now(UTC))}


async def post_callback(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(CALLBACK, content=body, headers=headers)


def payment_deps(app: Starlette, database: Database, *, notary: object | None = None,
                 data_dir: Path | None = None) -> payment_jobs.PaymentDeps:
    settings: Settings = app.state.settings
    return payment_jobs.deps_for(settings, database.sessions, notary or app.state.notary,  # type: ignore[arg-type]
                                 app.state.blobs)


class StubSeal:
    """Returns the PDF or OFD unsealed: for tests about numbering, where sealing only costs time."""

    calls = 0
    ofd_calls = 0

    async def seal(self, pdf: bytes, placement: object, *, reason: str, location: str | None = None) -> bytes:
        self.calls += 1
        return pdf

    async def seal_ofd(self, ofd: bytes, *, page_id: str = "1",
                       box_mm: tuple[float, float, float, float]) -> bytes:
        self.ofd_calls += 1
        return ofd


def csrf(page: str) -> str:
    match = CSRF_RE.search(page)
    assert match, "no CSRF token"
    return match.group(1)


def receipt_links(page: str) -> list[str]:
    return re.findall(r'href="(/fines/[0-9a-f]+/receipts/\d{8}/\d{10})"', page)


async def fine_row(database: Database, fine_pk: int) -> Fine:
    async with database.sessions() as db:
        fine = await db.get(Fine, fine_pk)
        assert fine is not None
        return fine
