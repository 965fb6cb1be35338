"""A party exercises a right from the paper in its hand (issue 5, "Done when"), in a real
browser at phone size: open the demo case's QR link, log in, file a statement and defence with
an attachment, and download the receipt the portal sealed; the axe scan passes on every page."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_case_qr import demo_case_url


def _photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (180, 40, 40)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


async def test_scan_log_in_file_a_statement_and_download_the_sealed_receipt(
        page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    url = demo_case_url(live_server)
    code = url.split("/c/")[1].split("?")[0]
    await page.goto(url)
    await assert_accessible(page)
    await page.get_by_role("link", name="登录后查看完整案件信息").click()
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url(f"**/cases/{code}")
    await expect(page.locator("#rights")).to_contain_text("不得因您陈述、申辩而给予更重的处罚")
    await assert_accessible(page)

    await page.get_by_role("link", name="提交陈述、申辩", exact=True).click()  # in 您的权利
    await expect(page.locator("h1")).to_have_text("陈述、申辩")
    await expect(page.locator("main")).to_contain_text("第四十五条")
    await assert_accessible(page)
    await page.get_by_role("button", name="提交陈述、申辩").click()  # empty: refused, explained
    await expect(page.locator(".error-summary")).to_contain_text("请填写陈述、申辩的意见")
    await assert_accessible(page)
    await page.get_by_label("陈述、申辩意见").fill("所售酸奶系他人寄存，并非本店销售，请核实。")
    await page.get_by_label("附件（选填）").set_input_files(_photo(tmp_path / "现场照片.png"))
    await page.get_by_role("button", name="提交陈述、申辩").click()
    await expect(page.locator("h1")).to_have_text("陈述、申辩已提交")
    await expect(page.locator("main")).to_contain_text("附件1（image/png")
    await assert_accessible(page)

    receipt = page.get_by_role("link", name="下载提交回执（PDF）")
    for _ in range(60):  # sealed right after the commit; the worker issues it if that failed
        if await receipt.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    async with page.expect_download() as download:
        await receipt.click()
    saved = tmp_path / "提交回执.pdf"
    await (await download.value).save_as(saved)
    assert (await asyncio.to_thread(saved.read_bytes)).startswith(b"%PDF-")
    assert (await download.value).suggested_filename.startswith("提交回执-")

    await page.get_by_role("link", name="返回案件").click()
    await page.wait_for_url(f"**/cases/{code}")
    await expect(page.locator("#rights")).to_contain_text("我提交的材料")
    await expect(page.locator("#timeline")).to_contain_text("提交陈述、申辩")
    await assert_accessible(page)
