"""The party pays a fine end to end over HTTP, through the sandbox platform mounted in the app:
the amount due today and its validity, the due date and how it was counted, the pay
click, the return page that never marks anything paid, the signed callback, the worker's sealed
fiscal e-receipt, its download and its public verification."""

from __future__ import annotations

import re

import httpx
from pypdf import PdfReader
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.models.outbox import OutboxMessage
from portal.models.payments import PaymentOrder, PaymentRecord
from portal.models.receipts import FiscalReceipt
from portal.workers import payments as payment_jobs
from tests.builders import fine_world
from tests.conftest import Database
from tests.pdf_objects import array
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import csrf, payment_deps, receipt_links


async def test_party_pays_through_the_sandbox_and_gets_a_sealed_receipt_that_verifies(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 67 (15 days from service), 72 (quote valid today); FJ art. 20 (e-receipt)
    fw = await fine_world(database, served_days_ago=3)
    await log_in(client, "zhangsan")

    listing = await client.get("/fines")
    assert fw.fine_id in listing.text and "榕市监罚〔2026〕7号" in listing.text
    page = await client.get(f"/fines/{fw.fine_id}")
    assert page.status_code == 200
    assert "今日应缴金额：<strong>1,000.00 元</strong>" in page.text
    assert "本报价有效期至今日24:00（北京时间）" in page.text
    assert "15日（自然日）" in page.text  # how the due date was counted
    assert "每日按罚款数额的百分之三加处罚款" in page.text  # the party is told (APL art. 72)
    assert page.headers["cache-control"] == "private, no-store"

    pay = await client.post(f"/fines/{fw.fine_id}/pay", data={"csrf_token": csrf(page.text)})
    assert pay.status_code == 303
    pay_url = pay.headers["location"]
    assert pay_url.startswith("http://testserver/sandbox-pay/pay/SBX")

    returned = await client.get(f"/fines/{fw.fine_id}/return")  # back before the callback
    assert "支付结果确认中" in returned.text and 'hx-trigger="every 2s"' in returned.text
    assert "<strong>已缴清</strong>" not in returned.text
    fragment = await client.get(f"/fines/{fw.fine_id}/return", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="payment-status"')
    assert "HX-Request" in fragment.headers["vary"]

    platform_page = await client.get(pay_url)
    assert "沙箱支付平台" in platform_page.text and "1,000.00" in platform_page.text
    paid = await client.post(pay_url, data={"action": "pay", "csrf_token": csrf(platform_page.text)})
    assert paid.status_code == 303 and paid.headers["location"].endswith(f"/fines/{fw.fine_id}/return")
    await app.state.payments.sandbox.drain()  # the platform's signed callback has been answered
    assert all(attempt.acknowledged for attempt in app.state.payments.sandbox.deliveries)

    issuing = await client.get(f"/fines/{fw.fine_id}/return")
    assert "<strong>已缴清</strong>" in issuing.text and "财政电子票据正在开具" in issuing.text
    assert await payment_jobs.JOBS.drain(payment_deps(app, database)) == 1
    done = await client.get(f"/fines/{fw.fine_id}/return")
    assert "<strong>已缴清</strong>" in done.text
    assert f'hx-get="/fines/{fw.fine_id}' not in done.text  # polling stops
    [link] = receipt_links(done.text)
    pdf = await client.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    reader = PdfReader(__import__("io").BytesIO(pdf.content))
    assert reader.attachments["receipt.json"]
    assert "/Sig" in str(array(reader.trailer, "/Root", "/AcroForm", "/Fields")[0].get_object())

    code, number = re.search(r"/receipts/(\d{8})/(\d{10})", link).groups()  # type: ignore[union-attr]
    async with database.sessions() as db:
        receipt = (await db.execute(select(FiscalReceipt))).scalar_one()
        assert (await db.execute(select(func.count()).select_from(PaymentRecord))).scalar_one() == 1
        order = (await db.execute(select(PaymentOrder))).scalar_one()
    assert order.state == "paid" and receipt.total_fen == 100_000
    verified = await client.get("/receipts/verify", params={
        "code": code, "number": number, "check": receipt.check_code})
    assert verified.status_code == 200
    assert "电子印章（PDF）：<strong>有效</strong>" in verified.text
    assert "已被查验 <strong>1</strong> 次" in verified.text
    assert "壹仟元整" in verified.text
    again = await client.get("/receipts/verify", params={
        "code": code, "number": number, "check": receipt.check_code})
    assert "已被查验 <strong>2</strong> 次" in again.text
    async with database.sessions() as db:  # the party is told, in the portal (notices)
        kinds = set((await db.execute(select(OutboxMessage.kind).where(
            OutboxMessage.channel == "inbox"))).scalars())
    assert {"payment_confirmed", "receipt_issued"} <= kinds
    case_page = await client.get(f"/cases/{fw.world.case_code}")  # and on the case page
    assert "罚款缴纳" in case_page.text and link in case_page.text
