"""The portal with the provincial non-tax platform's adapter instead of the sandbox (adapters
behind one interface): the same pay click, the platform's own signed form-encoded
callback answered ``success``, the same receipt and reconciliation. The platform is the
faithful counterpart of the contract tests (tests/payments/nontax_counterpart.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from starlette.applications import Starlette

from payments import NontaxClient
from portal.legal_calendar import china_date
from portal.models.payments import PaymentOrder
from portal.payment_platforms import PaymentPlatforms
from portal.services import reconciliations
from portal.workers import payments as payment_jobs
from tests.builders import fine_world
from tests.conftest import Database
from tests.payments.nontax_counterpart import NontaxCounterpart, Trade
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import StubSeal, click_pay, payment_deps

APP_ID = "app-350100-001"


async def _instant_sleep(seconds: float) -> None:
    return None


def _use_nontax(app: Starlette) -> NontaxCounterpart:
    portal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    counterpart = NontaxCounterpart(
        app_id=APP_ID, portal_key=portal_key.public_key(), platform_key=platform_key,
        notify_http=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)),
        clock=lambda: datetime.now(UTC), sleep=_instant_sleep)
    client = NontaxClient(gateway_url="https://nontax.example/gateway", app_id=APP_ID,
                          private_key=portal_key, platform_key=platform_key.public_key(),
                          http=httpx.AsyncClient(transport=httpx.MockTransport(counterpart.handle)))
    app.state.payments = PaymentPlatforms(client, {client.name: client}, app.state.settings.public_url,
                                          form_action_origin="https://pay.nontax.example")
    return counterpart


async def test_the_nontax_platform_takes_the_same_path_as_the_sandbox(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # DESIGN.md "Payments": platforms are adapters behind one interface; LAW.md: the portal
    # never holds the money, it records the platform's signed confirmation
    counterpart = _use_nontax(app)
    fw = await fine_world(database)
    await log_in(client, "zhangsan")
    page = await client.get(f"/fines/{fw.fine_id}")
    # Chromium applies form-action to the redirect answering the pay button (another origin)
    assert "form-action 'self' https://pay.nontax.example" in page.headers["content-security-policy"]
    pay = await click_pay(client, fw.fine_id)
    assert pay.status_code == 303 and pay.headers["location"].startswith("https://pay.nontax.example/")
    trade_no = parse_qs(urlsplit(pay.headers["location"]).query)["trade_no"][0]
    assert "支付结果确认中" in (await client.get(f"/fines/{fw.fine_id}/return")).text

    await counterpart.pay(trade_no)
    await counterpart.drain()
    assert [d.acknowledged for d in counterpart.deliveries] == [True]  # answered "success"
    assert "<strong>已缴清</strong>" in (await client.get(f"/fines/{fw.fine_id}/return")).text
    async with database.sessions() as db:
        order = (await db.execute(select(PaymentOrder))).scalar_one()
    assert (order.platform, order.state, order.platform_order_id) == ("nontax", "paid", trade_no)
    assert await payment_jobs.JOBS.drain(payment_deps(app, database, notary=StubSeal())) == 1

    row = await reconciliations.reconcile_day(database.sessions, app.state.payments.active,
                                              china_date(datetime.now(UTC)))
    assert row.clean and row.matched == 1 and row.platform == "nontax"


async def test_a_nontax_callback_with_a_foreign_signature_is_answered_fail(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    _use_nontax(app)
    impostor = NontaxCounterpart(
        app_id=APP_ID, portal_key=rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        platform_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        notify_http=httpx.AsyncClient(), clock=lambda: datetime.now(UTC), sleep=_instant_sleep)
    fw = await fine_world(database)
    await log_in(client, "zhangsan")
    await click_pay(client, fw.fine_id)
    async with database.sessions() as db:
        order = (await db.execute(select(PaymentOrder))).scalar_one()
    trade = Trade(order.platform_order_id or "", order.public_id, fw.payment_code, order.amount_fen,
                  "", order.expires_at, status="PAID", pay_time=datetime.now(UTC), serial="FS1")
    answer = await client.post("/api/v1/payments/callbacks/nontax",
                               content=impostor.notification(trade, "n-1"),
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert (answer.status_code, answer.text) == (200, "fail")  # the platform's protocol: retry
