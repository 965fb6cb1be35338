"""The public pages render in a real browser, work at phone size and pass the axe scan."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.conftest import LiveServer, assert_accessible


async def test_home_page_renders_in_chinese(page: Page, live_server: LiveServer) -> None:
    response = await page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert await page.locator("h1").inner_text() == "行政执法公共服务平台"
    await assert_accessible(page)


async def test_skip_link_moves_focus_to_main(page: Page, live_server: LiveServer) -> None:
    await page.goto(live_server.url + "/")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("() => document.activeElement.textContent")
    assert focused.strip() == "跳到主要内容"
    await page.keyboard.press("Enter")
    assert await page.evaluate("() => document.activeElement.id") == "main"


async def test_htmx_loads_under_the_strict_csp(page: Page, live_server: LiveServer) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await page.goto(live_server.url + "/")
    assert await page.evaluate("() => typeof htmx !== 'undefined' && htmx.config.allowEval === false")
    assert await page.evaluate("() => htmx.config.historyCacheSize") == 0
    assert not [e for e in errors if "Content Security Policy" in e]


async def test_not_found_page_is_chinese_and_accessible(page: Page, live_server: LiveServer) -> None:
    response = await page.goto(live_server.url + "/no-such-page")
    assert response is not None and response.status == 404
    assert "页面不存在" in await page.locator("h1").inner_text()
    await assert_accessible(page)
