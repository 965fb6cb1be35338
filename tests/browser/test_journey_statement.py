"""Journey: a party exercises the right to state and defend (APL art. 44, 45)
on a 375x812 phone, with and without JavaScript: log in → 我的待办 → 提交陈述、申辩
→ a photo without an opinion is refused with the error summary, the photo kept → the opinion is
typed, the session lapses meanwhile, the post leads to the login and back to the form with the
opinion and the photo → a double tap on 提交 → 已提交; Back says so and leads to the receipt,
which /verify finds valid → the case lists exactly one submission. axe
finds nothing on any state."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from playwright.async_api import expect

from tests.browser.conftest import (
    LiveServer,
    Phone,
    agency_api,
    in_first_screen,
    log_in,
    one_line_header,
    rewind_sessions,
    wait_for_link,
)

OPINION = "所售酸奶系他人寄存，并非本店销售，请核实。"


def _photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (180, 40, 40)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


async def _notice_informed(live_server: LiveServer, case_number: str) -> str:
    """An agency registers a case of 张三 and informs him of the proposed penalty now: his
    5 working days to state and defend start (APL art. 44, 45). Returns the case code."""
    registered = await agency_api(live_server, "POST", "/api/v1/cases", json={
        "agency_case_number": case_number, "case_type": "行政处罚", "matter": "销售超过保质期的食品",
        "hearing_right": False, "electronic_monitoring": False,
        "parties": [{"kind": "person", "name": "张三", "id_number": "35010219850312123X"}],
        "officers": [{"name": "陈明", "credential_number": "35010020230017"},
                     {"name": "林芳", "credential_number": "35010020230024"}]})
    assert registered.status_code == 201, registered.text
    code: str = registered.json()["code"]
    events = f"/api/v1/cases/{code}/events"
    assert (await agency_api(live_server, "POST", events, json={"kind": "filed"})).status_code == 201
    now = datetime.now(UTC).isoformat()  # informed as the notice is made
    notice = await agency_api(live_server, "POST", events, json={"kind": "penalty_notice", "data": {
        "proposed_penalty": "罚款人民币一万元", "proposed_fine_fen": 1_000_000,
        "facts": "销售超过保质期的酸奶", "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "occurred_at": now, "informed_at": now}})
    assert notice.status_code == 201, notice.text
    return code


async def test_file_a_statement_and_verify_its_receipt(phone: Phone, live_server: LiveServer,
                                                      tmp_path: Path) -> None:
    case_number = f"榕市监处罚〔2026〕{'821' if phone.javascript else '822'}号"
    code = await _notice_informed(live_server, case_number)
    page = await phone.context.new_page()
    await log_in(page, live_server, "zhangsan")
    await page.locator(".todo-link", has_text="提交陈述、申辩").filter(has_text=case_number).click()
    await page.wait_for_url(f"**/cases/{code}/statement")
    await one_line_header(page)
    await expect(page.locator("h1")).to_have_text("陈述、申辩")
    await expect(page.locator("main")).to_contain_text("第四十五条")
    await phone.scan(page)

    submit = page.get_by_role("button", name="提交陈述、申辩")
    await page.get_by_label("附件（选填）").set_input_files(_photo(tmp_path / "现场照片.png"))
    await submit.click()  # a photo but no opinion: refused, explained, focus on the summary
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("请填写陈述、申辩的意见")
    await in_first_screen(summary)
    await expect(summary).to_be_focused()  # autofocus: read first, with or without JavaScript
    assert (await page.title()).startswith("错误：")
    kept = page.locator("#kept-files")  # the photo passed its checks: not chosen again
    await expect(kept).to_contain_text("附件1")
    await phone.scan(page)

    await page.get_by_label("陈述、申辩意见").fill(OPINION)
    await asyncio.to_thread(rewind_sessions, live_server, "张三", idle=timedelta(hours=1))
    await submit.click()  # the session lapsed while the form was open: kept, log in again
    await page.wait_for_url("**/login**")
    await phone.scan(page)
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.wait_for_url("**/dev-idp/**")
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url(f"**/cases/{code}/statement")
    await expect(page.locator("#restored")).to_be_visible()
    await expect(page.get_by_label("陈述、申辩意见")).to_have_value(OPINION)
    await expect(kept).to_contain_text("附件1")
    await phone.scan(page)

    await submit.dblclick()  # a double tap files once
    await expect(page.locator("h1")).to_have_text("陈述、申辩已提交")
    await expect(page.locator("main")).to_contain_text("附件1（image/png")
    await phone.scan(page)
    confirmation = page.url
    await page.go_back()  # Back to the form: it says 已提交 and leads to the receipt
    await expect(page.locator("#filed")).to_contain_text("这份表单已经提交过，平台没有重复提交")
    await phone.scan(page)
    await page.get_by_role("link", name="查看提交记录和回执").click()
    await page.wait_for_url(confirmation)

    receipt = page.get_by_role("link", name="下载提交回执（PDF）")
    await wait_for_link(page, receipt, javascript=False)  # sealed right after the commit, or by the worker
    await in_first_screen(receipt)
    async with page.expect_download() as download:
        await receipt.click()
    assert (await download.value).suggested_filename.startswith("提交回执-")
    saved = tmp_path / "提交回执.pdf"
    await (await download.value).save_as(saved)

    await page.get_by_role("link", name="返回案件").click()
    await page.wait_for_url(f"**/cases/{code}")
    await expect(page.locator("#rights")).to_contain_text("不得因您陈述、申辩而给予更重的处罚")
    await expect(page.locator("#timeline")).to_contain_text("提交陈述、申辩")
    await expect(page.locator("#rights tbody tr")).to_have_count(1)  # 我提交的材料: exactly one
    await phone.scan(page)

    await page.goto(live_server.url + "/verify")
    await page.get_by_label("要验证的 PDF 文件").set_input_files(saved)
    await page.get_by_role("button", name="开始验证").click()
    verdict = page.locator(".verdict-summary")
    await expect(verdict).to_have_text("此文件的签章有效，签署后未被修改", timeout=30_000)
    await in_first_screen(verdict)
    await in_first_screen(page.get_by_role("link", name="下载盖章的验证报告（PDF）"))
    await phone.scan(page)
