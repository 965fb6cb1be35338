"""A party objects to data (数据异议, GD art. 49; FJ art. 15) in a real browser at phone size:
from the demo case page, the form refuses an empty objection with an error summary, takes the
objection with a photo, and leads to the confirmation with its receipt; 我的数据异议 lists it with
the demo's answered one; the demo item under objection says so to an anonymous visitor. The axe
scan passes on every page."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, assert_accessible


def _photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (40, 120, 40)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


async def test_object_to_the_case_record_and_find_the_answers(
        page: Page, browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    code = live_server.demo_case_url().split("/c/")[1].split("?")[0]
    await page.goto(f"{live_server.url}/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.goto(f"{live_server.url}/cases/{code}")
    await page.get_by_role("link", name="对本案信息提出数据异议").click()
    await expect(page.locator("h1")).to_have_text("提出数据异议")
    await expect(page.locator("main")).to_contain_text("本案的案件信息")
    await assert_accessible(page)

    await page.get_by_role("button", name="提交数据异议").click()  # empty: refused, explained
    await expect(page.locator(".error-summary")).to_contain_text("请写明哪些信息有误以及理由")
    await assert_accessible(page)
    await page.get_by_label("有误的信息及理由").fill("案由中记载的执法人员到场时间有误。")
    await page.get_by_label("请求更正为（选填）").fill("到场时间：上午10时")
    await page.get_by_label("附件（选填）").set_input_files(_photo(tmp_path / "签到表.png"))
    await page.get_by_role("button", name="提交数据异议").click()
    await expect(page.locator("h1")).to_have_text("数据异议已提交")
    await expect(page.locator("main")).to_contain_text("正在核查")
    await assert_accessible(page)
    receipt = page.get_by_role("link", name="下载提交回执（PDF）")
    for _ in range(60):  # sealed right after the commit; the worker issues it if that failed
        if await receipt.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(receipt).to_be_visible()

    await page.goto(f"{live_server.url}/objections")
    await expect(page.locator("main")).to_contain_text("已更正")  # the demo's answered one
    await expect(page.locator("tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await page.locator("tbody tr", has_text="已更正").get_by_role("link").click()
    await expect(page.locator("#answer-title")).to_have_text("执法机关的答复")
    await assert_accessible(page)

    await page.go_back()
    under = page.locator("tbody tr", has_text="执法机关核查中").filter(has_text="执法信息公示")
    href = await under.get_by_role("link").get_attribute("href")
    assert href
    await page.goto(f"{live_server.url}{href}")
    back = await page.get_by_role("link", name="返回公示信息").get_attribute("href")
    assert back and re.fullmatch(r"/publicity/\d+", back)
    anonymous = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        public = await anonymous.new_page()
        await public.goto(f"{live_server.url}{back}")
        await expect(public.locator("main")).to_contain_text("本信息正在核查")
        await expect(public.locator("main")).not_to_contain_text("停业装修")
        await assert_accessible(public)
    finally:
        await anonymous.close()
