"""Journey: a newcomer scans the case QR code printed on the paper in their hand (FJ art. 8, 29)
on a 375x812 phone, with and without JavaScript: the public status shows
the stage first and nothing private; logging in from there lands on the full case, whose first
screen holds the deadline and the right to exercise. axe finds nothing on any state."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import (
    LiveServer,
    Phone,
    assert_accessible,
    in_first_screen,
    one_line_header,
    open_menu,
)


async def test_scan_then_log_in_to_the_full_case(phone: Phone, live_server: LiveServer) -> None:
    url = live_server.demo_case_url()
    page = await phone.context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    await one_line_header(page)
    await in_first_screen(page.get_by_text("已告知拟作出的行政处罚").first)
    await in_first_screen(page.get_by_role("link", name="登录后查看完整案件信息"))
    main = await page.locator("main").inner_text()
    assert "案件公开状态" in main and "福州市市场监督管理局" in main
    for private in ("张三", "35010219850312123X", "销售超过保质期的食品", "一万元", "陈明"):
        assert private not in main
    await phone.scan(page)

    await page.get_by_role("link", name="登录后查看完整案件信息").click()
    await page.wait_for_url("**/login")
    await phone.scan(page)
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.wait_for_url("**/dev-idp/**")
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    code = url.split("/c/")[1].split("?")[0]
    await page.wait_for_url(f"**/cases/{code}")

    await one_line_header(page)
    right = page.locator(".task .todo-link").first  # the right whose window runs, with its deadline
    await in_first_screen(right)
    await expect(right).to_contain_text("个工作日")
    main = await page.locator("main").inner_text()
    for expected in ("销售超过保质期的食品", "陈明", "35010020230017", "陈述、申辩期限",
                     "申请听证期限", "5个工作日，不含法定节假日", "办理过程"):
        assert expected in main, expected
    assert await page.locator(".case-deadlines .deadline").count() == 2
    await phone.scan(page)

    await open_menu(page, "我的案件")
    await page.wait_for_url("**/cases")
    # this case and the three decided cases with fines of portal.demo.fines (one in instalments)
    assert await page.locator(".case-list .card").count() == 4
    await phone.scan(page)


async def test_typed_lookup_form_is_accessible(page: Page, live_server: LiveServer) -> None:
    await page.goto(live_server.url + "/c")
    await assert_accessible(page)
    await page.get_by_label("案件编码").fill("7KQ2-M9XD-4RTB-H")
    await page.get_by_role("button", name="查询").click()
    assert "未找到该案件" in await page.locator("h1").inner_text()
    await assert_accessible(page)
