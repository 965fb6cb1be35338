"""Journey: a person signs the e-service confirmation on a 375x812 phone, with and without
JavaScript, and the portal asks for a fresh login on the way (SECURITY.md "Identity and
sessions": signing needs a login within minutes, v5.0.0-7.5.1; consent to e-service: APL art.
61, FJ art. 20): 王五 chooses one agency and an e-mail for copies, signs after the session's login
has grown old, is sent through the identity provider again and comes back to the confirmation
with the choices kept, signs it, then revokes it (signed as well); the notices both acts caused
are read, so 王五 is left as the demo has him, with nothing to do. axe finds nothing on any state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer, Phone, log_in, open_menu, rewind_sessions

AGENCY = "福州市市场监督管理局"
EMAIL = "wangwu@example.com"


async def _choose(page: Page) -> None:
    await page.get_by_label("仅限以下选中的执法机关").check()
    await page.get_by_label(AGENCY).check()
    await page.get_by_label("抄送提醒电子邮箱（选填）").fill(EMAIL)
    await page.get_by_label("我已阅读并理解上述确认书的内容和法律效果，同意电子送达").check()


async def test_consent_survives_a_forced_login_and_is_revoked(phone: Phone,
                                                             live_server: LiveServer) -> None:
    page = await phone.context.new_page()
    await log_in(page, live_server, "wangwu")
    await open_menu(page, "我的账户")
    await page.get_by_role("link", name="电子送达确认").first.click()
    await expect(page.locator("h1")).to_have_text("电子送达确认")
    await phone.scan(page)
    await _choose(page)

    await asyncio.to_thread(rewind_sessions, live_server, "王五", login=timedelta(hours=1))
    await page.get_by_role("button", name="签署确认书").click()
    await page.wait_for_url("**/login?reauth=1")
    await expect(page.get_by_role("alert")).to_contain_text("请重新登录后继续")
    await phone.scan(page)
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.wait_for_url("**/dev-idp/**")
    await page.locator("input[name=login][value=wangwu]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/consent")  # back at the confirmation, not at 待办
    await phone.scan(page)
    await expect(page.get_by_label("仅限以下选中的执法机关")).to_be_checked()  # the choices kept
    await expect(page.get_by_label(AGENCY)).to_be_checked()
    await expect(page.get_by_label("抄送提醒电子邮箱（选填）")).to_have_value(EMAIL)
    await page.get_by_label("我已阅读并理解上述确认书的内容和法律效果，同意电子送达").check()
    await page.get_by_role("button", name="签署确认书").click()
    await expect(page.locator("h1")).to_have_text("电子送达确认已生效")
    await phone.scan(page)

    await page.goto(live_server.url + "/consent")
    await expect(page.locator(".notice.success")).to_contain_text(AGENCY)  # the choice signed
    await page.get_by_label("我确认撤回电子送达，并将以本人签名签署撤回书").check()
    await page.get_by_role("button", name="签署并撤回").click()
    await expect(page.locator("h1")).to_have_text("已撤回电子送达确认")
    await phone.scan(page)

    await page.goto(live_server.url + "/notices")
    for _ in range(60):  # the worker turns both acts into notices within seconds
        if await page.get_by_text("2 条通知未读").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await phone.scan(page)
    await page.get_by_role("button", name="全部标为已读").click()
    await page.goto(live_server.url + "/todo")
    await expect(page.locator("main")).to_contain_text("王五目前没有需要处理的事项")
