"""The task first on a 375x812 phone (issue 14), with and without JavaScript: the header takes
one line and its menu opens without JavaScript; on 我的待办, a case, a fine, a mailbox item and
a verification result the control the person came for lies inside the first screen; axe finds
nothing on any of them. Runs against the ``make run`` demo (``portal.demo``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import LiveServer, assert_accessible, log_in
from tests.signing.sample_pdfs import make_pdf

PHONE = {"width": 375, "height": 812}
ONE_LINE = 60  # px: the header's height when nothing wraps (44 px targets and padding)


async def _in_first_screen(control: Locator) -> None:
    await expect(control).to_be_visible()
    box = await control.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box


async def _scan(page: Page, phone: Phone) -> None:
    """axe needs the page's JavaScript (its timers never fire with it off): the no-JS run
    checks the layout, the JS run scans the same markup."""
    if phone.javascript:
        await assert_accessible(page)


async def _one_line_header(page: Page) -> None:
    header = await page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= ONE_LINE, header


@dataclass(frozen=True)
class Phone:
    context: BrowserContext
    javascript: bool


@pytest.fixture(params=["js", "no-js"])
async def phone(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Phone]:
    javascript = request.param == "js"
    context = await browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=javascript)
    yield Phone(context, javascript)
    await context.close()


async def test_zhangsans_todo_case_and_fines_put_the_task_first(phone: Phone,
                                                                live_server: LiveServer) -> None:
    page = await phone.context.new_page()
    await log_in(page, live_server, "zhangsan")
    await _one_line_header(page)
    first = page.locator(".todo-list .todo-link").first
    await _in_first_screen(first)
    await expect(first).to_contain_text("已逾期，今日应缴罚款")  # the surcharge grows daily
    await _scan(page, phone)

    menu = page.locator("header details.site-menu")
    await menu.locator("summary").click()  # a <details>: no JavaScript needed
    await expect(menu.get_by_role("link", name="我的案件")).to_be_visible()
    await _scan(page, phone)

    notice_case = json.loads((live_server.data_dir / "demo-cases.json").read_text())[0]
    await page.goto(f"{live_server.url}/cases/{notice_case}")
    await _one_line_header(page)
    # a right whose window runs (test_statement may have used the statement one already)
    right = page.locator(".task .todo-link").first
    await _in_first_screen(right)
    await expect(right).to_contain_text("个工作日")
    await _scan(page, phone)

    # the overdue one: test_payment pays the fresh one on the same demo server
    _fresh, overdue, by_instalments = json.loads(
        (live_server.data_dir / "demo-fines.json").read_text())["fines"]
    await page.goto(f"{live_server.url}/fines/{overdue}")
    await _in_first_screen(page.get_by_role("button", name="前往支付平台缴款"))
    await _scan(page, phone)
    await page.goto(f"{live_server.url}/fines/{by_instalments}")
    await _in_first_screen(page.get_by_text("下一期："))
    await expect(page.get_by_role("button", name="前往支付平台缴款")).to_have_count(0)
    await page.locator("summary", has_text="提前缴纳第1期").click()  # early payment, one step away
    await expect(page.get_by_role("button", name="提前缴纳第1期")).to_be_visible()
    await _scan(page, phone)


async def test_lisis_mailbox_item_and_a_verification_result_put_the_task_first(
        phone: Phone, live_server: LiveServer, tmp_path: Path) -> None:
    page = await phone.context.new_page()
    await log_in(page, live_server, "lisi")
    await expect(page.locator(".todo-list")).to_contain_text("缴纳罚款 5,000.00 元")  # the company's fine
    await page.locator(".todo-link", has_text="查看文书").first.click()
    await page.wait_for_url("**/mailbox/*")
    await _one_line_header(page)
    await _in_first_screen(page.get_by_role("button", name="查看文书"))
    await _in_first_screen(page.get_by_role("button", name="下载文书（PDF）"))
    await _in_first_screen(page.locator(".task .todo-link", has_text="缴纳罚款"))
    await _scan(page, phone)

    sample = tmp_path / "未签章.pdf"
    sample.write_bytes(make_pdf(1))
    await page.goto(live_server.url + "/verify")
    await page.locator("input[type=file]").set_input_files(sample)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator("h1")).to_have_text("签章验证结果", timeout=30_000)
    await _in_first_screen(page.get_by_role("link", name="下载盖章的验证报告（PDF）"))
    await _scan(page, phone)
