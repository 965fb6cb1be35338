"""Paying a fine 20 days late in the browser: the party sees the exact surcharge, opens the
outcome page before paying, pays in a second tab and watches the first flip from "confirming" to
"paid" (htmx polling, no reload), downloads the sealed e-receipt and verifies it on the public
page, by its link and by the form. The on-time payment is the journey of test_journey_pay."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Page, expect
from pypdf import PdfReader

from portal.legal_calendar import HolidayCalendar, china_date, payment_deadline
from tests.browser.conftest import LiveServer, assert_accessible

TIMEOUT = 30_000  # ms: the background worker seals the receipt within a few seconds


def _demo(live_server: LiveServer) -> dict[str, list[str]]:
    seeded: dict[str, list[str]] = json.loads((live_server.data_dir / "demo-fines.json").read_text())
    return seeded


async def _log_in(page: Page, live_server: LiveServer) -> None:
    await page.goto(live_server.url + "/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/todo")


async def _pay_and_get_receipt(context: BrowserContext, page: Page, live_server: LiveServer,
                               fine_id: str, tmp_path: Path) -> tuple[bytes, Page]:
    """Open the return page first (it polls), pay in a second tab, watch the first flip to paid."""
    await page.get_by_role("button", name="前往支付平台缴款").click()
    await page.wait_for_url("**/sandbox-pay/pay/**")
    pay_url = page.url
    await expect(page.locator("main")).to_contain_text("开发环境专用")

    await page.goto(f"{live_server.url}/fines/{fine_id}/return")  # back before paying
    status = page.locator("#payment-status")
    await expect(status).to_contain_text("支付结果确认中")
    await assert_accessible(page)

    platform = await context.new_page()
    await platform.goto(pay_url)
    await platform.get_by_role("button", name="确认支付").click()
    await platform.wait_for_url(f"**/fines/{fine_id}/return")

    # the first tab was not reloaded: htmx polling brought the platform's confirmation
    await expect(status).to_contain_text("已缴清", timeout=TIMEOUT)
    receipt_link = page.get_by_role("link", name="下载财政电子票据（PDF）")
    await expect(receipt_link).to_be_visible(timeout=TIMEOUT)
    await assert_accessible(page)
    async with page.expect_download() as download:
        await receipt_link.click()
    path = tmp_path / "receipt.pdf"
    await (await download.value).save_as(path)
    await platform.close()
    return path.read_bytes(), page


def _receipt_data(pdf: bytes) -> dict[str, object]:
    reader = PdfReader(io.BytesIO(pdf))
    [data] = reader.attachments["receipt.json"]
    parsed: dict[str, object] = json.loads(data)
    return parsed


async def _verify_on_public_page(page: Page, live_server: LiveServer, pdf: bytes, total: str) -> None:
    await page.get_by_role("link", name="查验").first.click()
    await page.wait_for_url("**/receipts/verify?**")
    main = page.locator("main")
    await expect(main).to_contain_text("电子印章（PDF）：有效")
    await expect(main).to_contain_text("已被查验 1 次")
    await expect(main).to_contain_text(total)
    await assert_accessible(page)
    data = _receipt_data(pdf)  # the form gives the same answer as the QR link
    await page.goto(live_server.url + "/receipts/verify")
    await page.get_by_label("票据代码").fill(str(data["code"]))
    await page.get_by_label("票据号码").fill(str(data["number"]))
    await page.get_by_label("校验码").fill(str(data["check_code"]))
    await page.get_by_role("button", name="查验").click()
    await expect(main).to_contain_text("已被查验 2 次")


def _served_on_for_days_late(days_late: int) -> tuple[date, date]:
    """A service date whose 15-day period ended exactly ``days_late`` days ago when one exists
    (a due date is always a working day), else the nearest that is later."""
    calendar = HolidayCalendar.standard()
    today = china_date(datetime.now(UTC))
    candidates = []
    for offset in range(days_late + 15, days_late + 40):
        served = today - timedelta(days=offset)
        due = payment_deadline(served, calendar).last_day
        candidates.append(((today - due).days, served, due))
    exact = [c for c in candidates if c[0] == days_late]
    _, served, due = exact[0] if exact else min(c for c in candidates if c[0] > days_late)
    return served, due


async def test_party_pays_20_days_late_with_the_exact_surcharge(
        context: BrowserContext, page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    # APL art. 72(1): 3% of the fine per day from the day after the due date
    served_on, due = _served_on_for_days_late(20)
    late = (china_date(datetime.now(UTC)) - due).days
    surcharge = min(100_000, 100_000 * 3 * late // 100)
    agency = live_server.demo_agency()
    case_code = _demo(live_server)["cases"][0]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        token = (await http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                                 auth=(agency["client_id"], agency["client_secret"]))).json()["access_token"]
        created = await http.post("/api/v1/fines", headers={"authorization": f"Bearer {token}"}, json={
            "decision_number": "榕市监罚字〔2026〕900号", "amount_fen": 100_000,
            "collecting_account": "福建省财政厅非税收入汇缴结算户", "surcharge_applies": True,
            "served_on": served_on.isoformat(), "case_code": case_code,
            "party": {"id_number": "35010219850312123X"}})
    assert created.status_code == 201, created.text
    fine = created.json()
    assert fine["due_date"] == due.isoformat() and fine["surcharge_days"] == late
    assert fine["amount_due_today_fen"] == 100_000 + surcharge

    await _log_in(page, live_server)
    await page.goto(f"{live_server.url}/fines/{fine['fine_id']}")
    main = page.locator("main")
    total = f"{(100_000 + surcharge) // 100:,}.{(100_000 + surcharge) % 100:02d}"
    await expect(main).to_contain_text(f"今日应缴金额：{total} 元")
    await expect(main).to_contain_text(f"计 {late} 日")
    await assert_accessible(page)

    pdf, page = await _pay_and_get_receipt(context, page, live_server, fine["fine_id"], tmp_path)
    data = _receipt_data(pdf)
    assert data["items"] == [{"name": "罚没收入—罚款", "amount_fen": 100_000},
                             {"name": "罚没收入—加处罚款", "amount_fen": surcharge}]
    assert data["total_fen"] == 100_000 + surcharge
    await _verify_on_public_page(page, live_server, pdf, f"¥{total}")
