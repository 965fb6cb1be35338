"""The idle-timeout warning (WCAG 2.2.1 Timing Adjustable; SECURITY.md v5.0.0-7.3.1 keeps the
30-minute idle limit): two minutes before it, a person typing a statement is offered 继续使用,
which renews the session without leaving the page, so nothing typed is lost. The browser's
clock is driven by Playwright; the server's session is the real one."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer, assert_accessible, log_in

STATEMENT = "所售酸奶系他人寄存，并非本店销售，请核实。"


async def test_the_idle_warning_keeps_the_person_and_what_they_typed(
        page: Page, live_server: LiveServer) -> None:
    await page.clock.install()
    await log_in(page, live_server, "zhangsan")
    code = live_server.demo_case_url().split("/c/")[1].split("?")[0]
    await page.goto(f"{live_server.url}/cases/{code}/statement")
    await page.get_by_label("陈述、申辩意见").fill(STATEMENT)
    panel = page.locator("#session-timeout")
    await expect(panel).to_be_hidden()

    await page.clock.fast_forward("28:30")  # 90 seconds before the 30-minute idle limit
    await expect(panel).to_be_visible()
    await expect(panel.get_by_role("button", name="继续使用")).to_be_focused()
    await assert_accessible(page)
    async with page.expect_response("**/session/keepalive") as answer:
        await panel.get_by_role("button", name="继续使用").click()
    assert (await answer.value).status == 204
    await expect(panel).to_be_hidden()
    await expect(page.get_by_label("陈述、申辩意见")).to_have_value(STATEMENT)  # the page stayed

    await page.clock.fast_forward("30:30")  # no activity since: the warning says so, plainly
    await expect(panel.locator("[data-expired]")).to_be_visible()
    await expect(panel.get_by_role("link", name="重新登录")).to_be_visible()
    await assert_accessible(page)
