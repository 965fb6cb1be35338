"""The personal-information notice (PIPL art. 17) is reached from the login page before anything
is collected, reads on a phone, and passes the axe scan."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer, assert_accessible


async def test_the_notice_is_one_tap_from_the_login_page(page: Page, live_server: LiveServer) -> None:
    await page.goto(f"{live_server.url}/login")
    await page.locator("main").get_by_role("link", name="个人信息处理规则").click()
    await expect(page.locator("h1")).to_have_text("个人信息处理规则")
    await expect(page.locator("#kept-messages")).to_contain_text("180天")
    await assert_accessible(page)
