"""Publicity in a real browser at phone size, on the demo data `portal run` seeds: search by a
fragment of a company's name, narrow by decision date, open the item; the results update in
place with htmx (and the address bar follows), the same search works with JavaScript off, and
the axe scan passes on every page visited with JavaScript on (FJ art. 8, 21; WCAG 2.1 AA)."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, assert_accessible

COMPANY = "福州闽江食品贸易有限公司"  # three demo decisions, about 360, 216 and 72 days old


async def test_search_a_company_fragment_filter_by_date_and_open_the_item(
        page: Page, live_server: LiveServer) -> None:
    await page.goto(live_server.url + "/")
    await page.get_by_role("link", name="查询公示信息").click()
    await page.wait_for_url("**/publicity")
    await expect(page.locator(".publicity-item").first).to_be_visible()
    await assert_accessible(page)

    await page.get_by_label("关键词").fill("闽江食品")
    results = page.locator(".publicity-item")
    await expect(results).to_have_count(3)  # htmx swapped the results in after typing
    await expect(results.first).to_contain_text(COMPANY)
    assert "q=%E9%97%BD%E6%B1%9F%E9%A3%9F%E5%93%81" in page.url  # hx-push-url: shareable, back works

    since = (date.today() - timedelta(days=100)).isoformat()
    await page.get_by_label("从", exact=True).fill(since)
    await expect(results).to_have_count(1)
    assert f"from={since}" in page.url
    await assert_accessible(page)

    await results.first.get_by_role("link").click()
    await page.wait_for_url("**/publicity/*")
    main = page.locator("main")
    await expect(main.locator("h1")).to_contain_text(COMPANY)
    text = await main.inner_text()
    for expected in ("统一社会信用代码", "福州市交通运输局", "决定日期", "公示截止", "驾驶人"):
        assert expected in text, expected
    assert "350102198503121237" not in text and "3****************7" in text  # masked on ingest
    await assert_accessible(page)


async def test_the_same_search_works_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                        java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(live_server.url + "/publicity")
        await page.get_by_label("关键词").fill("闽江食品")
        await page.get_by_role("button", name="搜索").click()
        await page.wait_for_url("**/publicity?q=*")
        await expect(page.locator(".publicity-item")).to_have_count(3)
        await page.get_by_label("执法机关").select_option(label="福州市市场监督管理局")
        await page.get_by_role("button", name="搜索").click()
        await expect(page.locator("#publicity-results [role=status]")).to_contain_text("没有找到")
        # no axe scan here: axe-core needs the page's JavaScript (its timers never fire with it
        # off); the same markup is scanned with JavaScript on above
    finally:
        await context.close()
