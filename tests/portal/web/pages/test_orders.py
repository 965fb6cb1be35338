"""Pay clicks and who may see a fine (SECURITY.md 2.3.4, 8.2.2)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.models.payments import PaymentOrder
from tests.builders import fine_world
from tests.conftest import Database
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import click_pay, csrf, open_order


async def test_20_concurrent_pay_clicks_give_one_open_order(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # SECURITY.md reliability battery: "20 concurrent pay clicks on one fine: one open payment order"
    fw = await fine_world(database)
    await log_in(client, "zhangsan")
    token = csrf((await client.get(f"/fines/{fw.fine_id}")).text)
    clicks = await asyncio.gather(*(client.post(f"/fines/{fw.fine_id}/pay", data={"csrf_token": token})
                                    for _ in range(20)))
    assert {c.status_code for c in clicks} == {303}
    assert len({c.headers["location"] for c in clicks}) == 1  # all sent to the same platform order
    async with database.sessions() as db:
        orders = list((await db.execute(select(PaymentOrder))).scalars())
    assert [(o.state, o.amount_fen) for o in orders] == [("pending", 100_000)]
    assert len(app.state.payments.sandbox.orders) == 1


async def test_a_new_day_expires_yesterdays_order_and_opens_one_for_todays_amount(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 72: a quote holds until 24:00 China time; the next day's order carries the new amount
    from datetime import UTC, datetime, timedelta

    fw = await fine_world(database, served_days_ago=20)
    await log_in(client, "zhangsan")
    first = await click_pay(client, fw.fine_id)
    yesterday = await open_order(database, fw.fine_pk)
    app.state.clock = lambda: datetime.now(UTC) + timedelta(days=1)
    try:
        second = await click_pay(client, fw.fine_id)
    finally:
        app.state.clock = None
    assert first.headers["location"] != second.headers["location"]
    async with database.sessions() as db:
        states = dict((await db.execute(select(PaymentOrder.public_id, PaymentOrder.state))).all())
        open_count = (await db.execute(select(func.count()).select_from(PaymentOrder).where(
            PaymentOrder.state.in_(("created", "pending", "failed"))))).scalar_one()
    today_order = await open_order(database, fw.fine_pk)
    assert states[yesterday.public_id] == "expired" and open_count == 1
    assert today_order.amount_fen > yesterday.amount_fen  # one more day of surcharge


async def test_a_party_cannot_see_or_pay_another_partys_fine(
        database: Database, client: httpx.AsyncClient) -> None:
    # SECURITY.md 8.2.2: a foreign id answers 404, like a missing one
    fw = await fine_world(database)
    await log_in(client, "wangwu")
    for path in (f"/fines/{fw.fine_id}", f"/fines/{fw.fine_id}/return",
                 f"/fines/{fw.fine_id}/receipts/35010001/0000000001", "/fines/" + "0" * 32):
        assert (await client.get(path)).status_code == 404, path
    token = csrf((await client.get("/fines")).text)
    assert (await client.post(f"/fines/{fw.fine_id}/pay", data={"csrf_token": token})).status_code == 404
    assert fw.fine_id not in (await client.get("/fines")).text


async def test_fines_need_a_login(database: Database, client: httpx.AsyncClient) -> None:
    fw = await fine_world(database)
    answer = await client.get(f"/fines/{fw.fine_id}")
    assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]


async def test_a_paid_fine_cannot_be_paid_again_from_the_portal(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # SECURITY.md 2.3.1: steps only in order; a second payment can only come from outside
    from tests.portal.web.pages.payment_factories import notice_body, place_order, post_callback, signed

    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(client, body, signed(app.state.settings, body))).status_code == 200
    await log_in(client, "zhangsan")
    page = await client.get(f"/fines/{fw.fine_id}")
    assert "前往支付平台缴款" not in page.text
    again = await client.post(f"/fines/{fw.fine_id}/pay", data={"csrf_token": csrf(page.text)})
    assert again.status_code == 409
