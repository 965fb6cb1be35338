"""The whole e-service journey as a new user walks it: log in, sign consent, an agency delivers
through the API, the party sees the document with its service time and deadlines, downloads it
and the service receipt, and /verify reports the receipt valid (LAW.md "Electronic service";
FJ art. 19; APL art. 61)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from playwright.async_api import Page, expect

from signing.pki_dev import DEFAULT_PORTAL_NAME
from tests.browser.conftest import LiveServer, agency_serves, assert_accessible, open_menu

NOTICE_LINES = ("行政处罚事先告知书", "当事人：张三", "拟作出罚款人民币一万元的行政处罚。",
                "你有权在收到本告知书之日起五个工作日内陈述、申辩和申请听证。")


async def _agency_delivers(live_server: LiveServer) -> dict[str, str]:
    """The demo agency serves a sealed prior notice on 张三 in his demo case, over HTTP."""
    case_code = json.loads((live_server.data_dir / "demo-cases.json").read_text())[0]
    return await agency_serves(live_server, case_code, {"id_number": "35010219850312123X"},
                               "行政处罚事先告知书", "榕市监告〔2026〕101号", NOTICE_LINES)


async def test_new_user_signs_consent_receives_a_document_and_verifies_the_receipt(
        page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    await page.goto(live_server.url + "/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/todo")

    await open_menu(page, "我的账户")
    await page.get_by_role("link", name="电子送达确认").first.click()
    await expect(page.locator("h1")).to_have_text("电子送达确认")
    await assert_accessible(page)
    await page.get_by_label("我已阅读并理解上述确认书的内容和法律效果，同意电子送达").check()
    await page.get_by_role("button", name="签署确认书").click()
    await expect(page.locator("h1")).to_have_text("电子送达确认已生效")
    await assert_accessible(page)

    served = await _agency_delivers(live_server)

    await open_menu(page, "我的邮箱")
    await expect(page.locator("main")).to_contain_text("榕市监告〔2026〕101号")
    await assert_accessible(page)
    await page.get_by_role("link", name="榕市监告〔2026〕101号").click()
    main = page.locator("main")
    await expect(main).to_contain_text(served["service_time"])  # the exact service time (UTC)
    await expect(main).to_contain_text("申请听证期限")
    await expect(main).to_contain_text("5个工作日")
    await assert_accessible(page)

    async with page.expect_download() as document_download:
        await page.get_by_role("button", name="下载文书（PDF）").click()
    document_path = await (await document_download.value).path()
    assert (await asyncio.to_thread(Path(document_path).read_bytes)).startswith(b"%PDF-")

    receipt_link = page.get_by_role("link", name="下载送达回证（PDF）")
    for _ in range(60):  # the background worker timestamps the arrival and seals the receipt
        if await receipt_link.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    async with page.expect_download() as receipt_download:
        await receipt_link.click()
    receipt_path = tmp_path / "送达回证.pdf"
    await (await receipt_download.value).save_as(receipt_path)

    await page.goto(live_server.url + "/verify")
    await page.get_by_label("要验证的 PDF 文件").set_input_files(receipt_path)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator(".verdict-summary")).to_have_text("此文件的签章有效，签署后未被修改")
    await expect(page.locator("main")).to_contain_text(DEFAULT_PORTAL_NAME)  # sealed by the portal
