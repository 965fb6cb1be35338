"""Journey: a party pays a served fine on a 375x812 phone, with and without JavaScript (APL art.
67, 72): log in → 我的待办 → the fine of the served decision → pay on the sandbox
platform → the outcome page says 已缴清 → the sealed fiscal e-receipt → 查验 says its seal is
valid. On the fine, outcome and 查验 pages what the person came for lies in the first screen,
and axe finds nothing on any state.

Each run pays a fine of its own, made payable through the agency API as an agency would (the
demo's fines stay for the pages that show them unpaid)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from portal.legal_calendar import china_date
from tests.browser.conftest import (
    LiveServer,
    Phone,
    agency_api,
    in_first_screen,
    log_in,
    one_line_header,
)
from tests.browser.receipts import pay_and_open_the_receipt, verify_the_receipt
from tests.identities import ZHANGSAN


async def serve_fine(live_server: LiveServer, decision_number: str, amount_fen: int,
                     party: dict[str, str], case_code: str, days_ago: int = 2) -> dict[str, object]:
    """The agency makes the fine of a decision served ``days_ago`` payable (APL art. 67)."""
    served_on = china_date(datetime.now(UTC)) - timedelta(days=days_ago)
    created = await agency_api(live_server, "POST", "/api/v1/fines", json={
        "decision_number": decision_number, "amount_fen": amount_fen,
        "collecting_account": "福建省财政厅非税收入汇缴结算户", "surcharge_applies": True,
        "served_on": served_on.isoformat(), "case_code": case_code, "party": party})
    assert created.status_code == 201, created.text
    fine: dict[str, object] = created.json()
    return fine


async def test_party_pays_a_served_fine_and_verifies_the_receipt(phone: Phone,
                                                                 live_server: LiveServer) -> None:
    # APL art. 67 (due 15 days after service), 72 (the amount quoted is today's)
    decision = f"榕市监罚字〔2026〕{'801' if phone.javascript else '802'}号"
    case_code = json.loads((live_server.data_dir / "demo-fines.json").read_text())["cases"][0]
    fine = await serve_fine(live_server, decision, 80_000, {"id_number": ZHANGSAN.id_number}, case_code)
    page = await phone.context.new_page()

    await log_in(page, live_server, "zhangsan")
    await one_line_header(page)
    item = page.locator(".todo-link", has_text=decision)
    await expect(item).to_contain_text("缴纳罚款 800.00 元")
    await expect(item).to_contain_text("个工作日")
    await phone.scan(page)
    await item.click()
    await page.wait_for_url(f"**/fines/{fine['fine_id']}")
    await one_line_header(page)
    await expect(page.locator("h1")).to_contain_text(decision)
    await in_first_screen(page.get_by_text("今日应缴金额：800.00 元"))
    main = page.locator("main")
    await expect(main).to_contain_text("本报价有效期至今日24:00（北京时间）")
    await expect(main).to_contain_text("15日（自然日）")
    await expect(main).to_contain_text("每日按罚款数额的百分之三加处罚款")
    await phone.scan(page)

    data = await pay_and_open_the_receipt(phone, page, str(fine["fine_id"]))
    assert data["total_fen"] == 80_000 and data["payer_name"] == "张三"
    await verify_the_receipt(phone, page, "捌佰元整")
