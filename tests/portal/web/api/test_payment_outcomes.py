"""What the party reads when the platform sends it back: 支付结果 确认中 until the platform's signed
word, then 已缴清 and the receipt; a payment cancelled or failed at the platform says nothing was
paid and offers to pay again; under an instalment plan a paid instalment confirms itself and the
next one shows its due date, and paying early is possible but not what the page offers first.
Each starts from the real event: a cancel click on the sandbox platform, a signed callback. Both
databases."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from portal.services.agencies import NewClient
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from tests.builders import fine_world, today
from tests.conftest import Database
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import decided_fine, instalment_plan
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    click_pay,
    csrf,
    notice_body,
    open_order,
    payment_deps,
    post_callback,
    signed,
)

PAY_BUTTON = re.compile(r'<button type="submit" class="button">前往支付平台缴款</button>')


async def test_cancelled_at_the_platform_says_nothing_was_paid_and_offers_to_pay_again(
        database: Database, app: Starlette, api: httpx.AsyncClient) -> None:
    fw = await fine_world(database)
    await log_in(api, "zhangsan")
    pay_url = (await click_pay(api, fw.fine_id)).headers["location"]
    waiting = (await api.get(f"/fines/{fw.fine_id}/return")).text
    assert "支付结果确认中" in waiting and 'hx-trigger="every 2s"' in waiting
    assert "刷新支付结果" in waiting and "http-equiv" not in waiting  # no timed reload (WCAG 2.2.1)
    assert not PAY_BUTTON.search(waiting)  # while waiting: no second payment offered

    platform_page = await api.get(pay_url)
    cancelled = await api.post(pay_url, data={"action": "cancel",  # the person gives up there
                                              "csrf_token": csrf(platform_page.text)})
    assert cancelled.status_code == 303
    await app.state.payments.sandbox.drain()  # the platform's signed "closed" has arrived
    page = (await api.get(f"/fines/{fw.fine_id}/return")).text
    assert "您没有完成支付" in page and "没有扣款" in page and PAY_BUTTON.search(page)
    assert 'hx-trigger="every' not in page  # nothing left to wait for
    assert (await click_pay(api, fw.fine_id)).status_code == 303  # and paying again works
    assert "您没有完成支付" not in (await api.get(f"/fines/{fw.fine_id}")).text  # a plain visit


async def test_failed_at_the_platform_says_what_to_do(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    fw = await fine_world(database)
    await log_in(api, "zhangsan")
    await click_pay(api, fw.fine_id)
    order = await open_order(database, fw.fine_pk)
    body = notice_body(order, fw.payment_code, status="failed")
    assert (await post_callback(api, body, signed(settings, body))).status_code == 200
    page = (await api.get(f"/fines/{fw.fine_id}/return")).text
    assert "支付未成功" in page and "请确认银行卡或账户余额后重新缴款" in page and PAY_BUTTON.search(page)


async def test_a_paid_instalment_confirms_itself_and_the_next_shows_its_due_date(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # APL art. 66: each instalment by its own date; paying early is the party's choice
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token)
    first, second = today() + timedelta(days=5), today() + timedelta(days=35)
    approved = await api.post(events, json=instalment_plan((first, 40_000), (second, 60_000)), headers=token)
    assert approved.status_code == 201
    await log_in(api, "zhangsan")

    ahead = (await api.get(f"/fines/{fw.fine_id}")).text
    assert "下一期：<strong>第1期 400.00 元</strong>" in ahead
    assert f"{first.year}年{first.month}月{first.day}日" in ahead and "个工作日" in ahead
    assert not PAY_BUTTON.search(ahead)  # not the first thing offered...
    assert re.search(r"<details class=\"alternative\">\s*<summary>提前缴纳第1期</summary>", ahead)
    assert "提前缴纳第1期</button>" in ahead  # ...but possible

    await click_pay(api, fw.fine_id)
    order = await open_order(database, fw.fine_pk)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    back = (await api.get(f"/fines/{fw.fine_id}/return")).text
    assert "第1期 400.00 元已缴清" in back and "财政电子票据正在开具" in back
    assert 'hx-trigger="every 2s"' in back  # until the receipt is there
    assert "下一期：<strong>第2期 600.00 元</strong>" in back
    assert f"{second.year}年{second.month}月{second.day}日" in back
    assert await payment_jobs.JOBS.drain(payment_deps(app, database, notary=StubSeal())) == 1
    issued = (await api.get(f"/fines/{fw.fine_id}/return")).text
    assert "第1期 400.00 元已缴清" in issued and "财政电子票据已开具" in issued
    assert 'hx-trigger="every' not in issued and "查看财政电子票据" in issued
