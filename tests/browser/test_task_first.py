"""The task first on a 375x812 phone, with and without JavaScript: the header takes
one line and its menu opens without JavaScript; on 我的待办, a case, a fine and the verification
result of an unsigned file the control the person came for lies inside the first screen; axe finds
nothing on any of them. Runs against the ``make run`` demo (``portal.demo``)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import LiveServer, Phone, in_first_screen, log_in, one_line_header
from tests.signing.sample_pdfs import make_pdf


async def test_zhangsans_todo_case_and_fines_put_the_task_first(phone: Phone,
                                                                live_server: LiveServer) -> None:
    page = await phone.context.new_page()
    await log_in(page, live_server, "zhangsan")
    await one_line_header(page)
    first = page.locator(".todo-list .todo-link").first
    await in_first_screen(first)
    await expect(first).to_contain_text("已逾期，今日应缴罚款")  # the surcharge grows daily
    await phone.scan(page)

    menu = page.locator("header details.site-menu")
    await menu.locator("summary").click()  # a <details>: no JavaScript needed
    await expect(menu.get_by_role("link", name="我的案件")).to_be_visible()
    await phone.scan(page)

    notice_case = json.loads((live_server.data_dir / "demo-cases.json").read_text())[0]
    await page.goto(f"{live_server.url}/cases/{notice_case}")
    await one_line_header(page)
    # a right whose window runs (test_statement may have used the statement one already)
    right = page.locator(".task .todo-link").first
    await in_first_screen(right)
    await expect(right).to_contain_text("个工作日")
    await phone.scan(page)

    # the overdue one: test_payment pays the fresh one on the same demo server
    _fresh, overdue, by_instalments = json.loads(
        (live_server.data_dir / "demo-fines.json").read_text())["fines"]
    await page.goto(f"{live_server.url}/fines/{overdue}")
    await in_first_screen(page.get_by_role("button", name="前往支付平台缴款"))
    await phone.scan(page)
    await page.goto(f"{live_server.url}/fines/{by_instalments}")
    await in_first_screen(page.get_by_text("下一期："))
    await expect(page.get_by_role("button", name="前往支付平台缴款")).to_have_count(0)
    await page.locator("summary", has_text="提前缴纳第1期").click()  # early payment, one step away
    await expect(page.get_by_role("button", name="提前缴纳第1期")).to_be_visible()
    await phone.scan(page)


async def test_a_verification_result_puts_the_report_first(phone: Phone, live_server: LiveServer,
                                                            tmp_path: Path) -> None:
    # a mailbox item's first screen is the company journey's (test_journey_company)
    page = await phone.context.new_page()
    sample = tmp_path / "未签章.pdf"
    sample.write_bytes(make_pdf(1))
    await page.goto(live_server.url + "/verify")
    await page.locator("input[type=file]").set_input_files(sample)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator("h1")).to_have_text("签章验证结果", timeout=30_000)
    await in_first_screen(page.get_by_role("link", name="下载盖章的验证报告（PDF）"))
    await phone.scan(page)
