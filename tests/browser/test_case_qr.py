"""A newcomer's path with a case QR code (FJ art. 8, 29), in a real browser at phone size:
open the demo case's QR link printed in the `portal run` banner, see the public status with
nothing private, log in as the party and land on the full case with its deadlines; the axe
scan passes on every page."""

from __future__ import annotations

import re

from playwright.async_api import Page

from tests.browser.conftest import LiveServer, assert_accessible, open_menu


def demo_case_url(live_server: LiveServer) -> str:
    """The first demo case's QR link, as the banner printed it (the person 张三's case)."""
    match = re.search(r"（当事人登录：zhangsan） (\S+/c/\S+\?t=\S+)", live_server.log.read_text())
    assert match, "the banner printed no demo case link"
    return match.group(1)


async def test_scan_then_log_in_to_the_full_case(page: Page, live_server: LiveServer) -> None:
    url = demo_case_url(live_server)
    response = await page.goto(url)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    main = await page.locator("main").inner_text()
    assert "案件公开状态" in main and "福州市市场监督管理局" in main
    assert "已告知拟作出的行政处罚" in main
    for private in ("张三", "35010219850312123X", "销售超过保质期的食品", "一万元", "陈明"):
        assert private not in main
    await assert_accessible(page)

    await page.get_by_role("link", name="登录后查看完整案件信息").click()
    await page.wait_for_url("**/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.wait_for_url("**/dev-idp/**")
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    code = url.split("/c/")[1].split("?")[0]
    await page.wait_for_url(f"**/cases/{code}")

    main = await page.locator("main").inner_text()
    for expected in ("销售超过保质期的食品", "陈明", "35010020230017", "陈述、申辩期限",
                     "申请听证期限", "5个工作日，不含法定节假日", "办理过程"):
        assert expected in main, expected
    assert await page.locator(".case-deadlines .deadline").count() == 2
    await assert_accessible(page)

    await open_menu(page, "我的案件")
    await page.wait_for_url("**/cases")
    # this case and the three decided cases with fines of portal.demo.fines (one in instalments)
    assert await page.locator(".case-list .card").count() == 4
    await assert_accessible(page)


async def test_typed_lookup_form_is_accessible(page: Page, live_server: LiveServer) -> None:
    await page.goto(live_server.url + "/c")
    await assert_accessible(page)
    await page.get_by_label("案件编码").fill("7KQ2-M9XD-4RTB-H")
    await page.get_by_role("button", name="查询").click()
    assert "未找到该案件" in await page.locator("h1").inner_text()
    await assert_accessible(page)
