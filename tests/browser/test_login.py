"""Log in through the development identity provider and log out, in a real browser, with the
accessibility scan on every page visited."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.conftest import LiveServer, assert_accessible, open_menu


async def _log_in(page: Page, live_server: LiveServer, identity: str) -> None:
    await page.goto(live_server.url + "/")
    await page.get_by_role("link", name="登录").first.click()
    await page.wait_for_url("**/login")
    assert "开发用身份认证服务" in await page.locator(".dev-banner").inner_text()
    await assert_accessible(page)
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.wait_for_url("**/dev-idp/**")
    await assert_accessible(page)
    await page.locator(f"input[name=login][value={identity}]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/todo")


async def test_person_logs_in_and_out(page: Page, live_server: LiveServer) -> None:
    await _log_in(page, live_server, "zhangsan")
    assert "张三" in await page.locator("main").inner_text()
    await assert_accessible(page)
    await open_menu(page)
    await page.get_by_role("button", name="退出登录").click()
    await page.wait_for_url("**/?logged_out=1")
    assert "您已安全退出登录" in await page.locator("main").inner_text()
    await assert_accessible(page)
    response = await page.goto(live_server.url + "/account")
    assert response is not None
    assert page.url.endswith("/login")  # the account page needs a login again


async def test_organisation_agent_acts_for_the_company(page: Page, live_server: LiveServer) -> None:
    await _log_in(page, live_server, "lisi")
    banner = await page.locator(".acting-bar").inner_text()
    assert "福州示例科技有限公司" in banner and "李四" in banner
    await assert_accessible(page)
