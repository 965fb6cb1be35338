"""The sandbox platform's pay page, mounted in the portal, is a form like any other: only the
order's payer sees it, and paying needs the CSRF token (a fine was once marked 已缴清 by
pressing 确认支付 with no session and no token). SECURITY.md "Browser side", v5.0.0-3.5.1;
"Access control", v5.0.0-8.2.2."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from portal.models.payments import PaymentRecord
from tests.builders import fine_world
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import place_order


async def _payments(database: Database) -> list[PaymentRecord]:
    async with database.sessions() as db:
        return list((await db.execute(select(PaymentRecord))).scalars())


async def test_only_the_payer_with_the_csrf_token_can_pay_at_the_sandbox(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    page = f"/sandbox-pay/pay/{order.platform_order_id}"

    anonymous = await client.get(page)  # no session: the order is not shown at all
    assert anonymous.status_code == 404 and "1,000.00" not in anonymous.text
    assert "请登录行政执法服务平台" in anonymous.text
    refused = await client.post(page, data={"action": "pay"})
    assert refused.status_code == 403 and "页面已过期" in refused.text  # the portal's CSRF check

    await log_in(client, "wangwu")  # logged in, but not the payer
    assert (await client.get(page)).status_code == 404
    forged = await client.post(page, data={"action": "pay", "csrf_token": await csrf_from(client, "/")})
    assert forged.status_code == 404

    await log_in(client, "zhangsan")  # the payer
    token = await csrf_from(client, page)
    assert (await client.post(page, data={"action": "pay"})).status_code == 403  # no token
    await app.state.payments.sandbox.drain()
    assert await _payments(database) == []
    paid = await client.post(page, data={"action": "pay", "csrf_token": token})
    assert paid.status_code == 303 and paid.headers["location"].endswith(f"/fines/{fw.fine_id}/return")
    await app.state.payments.sandbox.drain()
    assert len(await _payments(database)) == 1
