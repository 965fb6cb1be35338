"""Page states that the citizen journeys pass through, in a real browser with axe: the
company's fine (payable where its agent looks), a payment cancelled on the platform and the
page that says so (htmx brings the platform's answer without a reload), notices that lead
somewhere, and the plain "nothing to do" of a person without matters."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer, assert_accessible, log_in, open_menu

TIMEOUT = 30_000  # ms: the sandbox's signed callback arrives within seconds


async def test_the_company_agent_cancels_a_payment_and_is_told_nothing_was_paid(
        page: Page, live_server: LiveServer) -> None:
    await log_in(page, live_server, "lisi")
    await open_menu(page, "我的罚款")
    # the company's 5,000-yuan decision (test_journey_company paid others)
    await page.locator(".fine-list .card", has_text="5,000.00 元").get_by_role("link").click()
    await expect(page.locator("h1")).to_contain_text("罚款 5,000.00 元")
    await page.get_by_role("button", name="前往支付平台缴款").click()
    await page.wait_for_url("**/sandbox-pay/pay/**")
    await page.get_by_role("button", name="取消").click()
    await page.wait_for_url("**/return")
    status = page.locator("#payment-status")
    await expect(status).to_contain_text("您没有完成支付", timeout=TIMEOUT)
    await expect(page.get_by_role("button", name="前往支付平台缴款")).to_be_visible()
    await assert_accessible(page)

    await open_menu(page, "通知")
    await expect(page.get_by_role("button", name="查看：新文书").first).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("button", name="查看：新文书").first.click()
    await page.wait_for_url("**/mailbox/*")  # the notice led to its document
    await expect(page.get_by_role("button", name="查看文书")).to_be_visible()


async def test_a_person_with_nothing_to_do_is_told_so(page: Page, live_server: LiveServer) -> None:
    await log_in(page, live_server, "wangwu")
    await expect(page.locator("main")).to_contain_text("王五目前没有需要处理的事项")
    await assert_accessible(page)
