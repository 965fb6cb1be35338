"""Journey: a company's agent pays the company's fine on a 375x812 phone, with and without
JavaScript (APL art. 67). The demo agency serves a 行政处罚决定书 on 福州示例科技有限公司 (which
consented to e-service) and makes its fine payable; 李四 logs in for the company → 我的待办
→ the new document → the mailbox item, whose first screen holds 查看文书, 下载 and the fine to
pay → the fine → pay → 已缴清 with the receipt made out to the company → 查验. axe finds
nothing on any state. The demo's own 5,000-yuan decision stays unpaid for the pages that show it."""

from __future__ import annotations

import json

from playwright.async_api import expect

from tests.browser.conftest import (
    LiveServer,
    Phone,
    agency_api,
    agency_serves,
    in_first_screen,
    log_in,
    one_line_header,
)
from tests.browser.receipts import pay_and_open_the_receipt, verify_the_receipt
from tests.identities import COMPANY


async def test_company_agent_pays_the_companys_fine(phone: Phone, live_server: LiveServer) -> None:
    # APL art. 67 (the 15 days run from the decision's arrival in the mailbox); FJ art. 20
    number = "811" if phone.javascript else "812"
    decision = f"榕市监罚字〔2026〕{number}号"
    title = f"榕市监处罚〔2026〕{number}号 行政处罚决定书"
    case_code = json.loads((live_server.data_dir / "demo-cases.json").read_text())[1]
    company = {"credit_code": COMPANY.credit_code}
    served = await agency_serves(live_server, case_code, company, "行政处罚决定书", title, (
        "行政处罚决定书", "当事人：福州示例科技有限公司", "处罚决定：罚款人民币叁仟元整（3000.00元）。"))
    created = await agency_api(live_server, "POST", "/api/v1/fines", json={
        "decision_number": decision, "amount_fen": 300_000, "delivery_id": served["delivery_id"],
        "collecting_account": "福建省财政厅非税收入汇缴结算户", "surcharge_applies": True})
    assert created.status_code == 201, created.text
    fine_id = created.json()["fine_id"]

    page = await phone.context.new_page()
    await log_in(page, live_server, "lisi")
    await one_line_header(page)
    await expect(page.locator(".acting-bar")).to_contain_text("福州示例科技有限公司")
    await expect(page.locator(".todo-list")).to_contain_text("缴纳罚款 5,000.00 元")  # the demo's decision
    await phone.scan(page)
    await page.locator("a.todo-link", has_text=f"查看文书：{title}").click()
    await page.wait_for_url("**/mailbox/*")
    await one_line_header(page)
    await in_first_screen(page.get_by_role("button", name="查看文书"))
    await in_first_screen(page.get_by_role("button", name="下载文书（PDF）"))
    pay = page.locator(".task .todo-link", has_text="缴纳罚款 3,000.00 元")
    await in_first_screen(pay)
    await phone.scan(page)

    await pay.click()
    await page.wait_for_url(f"**/fines/{fine_id}")
    await expect(page.locator("h1")).to_contain_text(decision)
    await in_first_screen(page.get_by_text("今日应缴金额：3,000.00 元"))
    await phone.scan(page)
    data = await pay_and_open_the_receipt(phone, page, fine_id)
    assert data["total_fen"] == 300_000 and data["payer_name"] == "福州示例科技有限公司"
    await verify_the_receipt(phone, page, "叁仟元整")
