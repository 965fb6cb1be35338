"""Notifications in a real browser: a party chooses e-mail on the settings page, an event is
enqueued the way a service enqueues it, the worker that ``portal run`` keeps in the background
delivers it (the e-mail lands in the mail sandbox), the bell's htmx refresh shows the new count,
and marking the notice read on /notices brings it down. Every page is scanned for accessibility.

The browser's clock is Playwright's fake one, so the bell's 30-second poll is fast-forwarded
instead of waited for.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from notifications import Kind
from notifications.channels.base import message_reference
from portal.database import create_engine, session_factory, transaction
from portal.models import Notice, Party
from portal.services import outbox
from tests.browser.conftest import LiveServer, assert_accessible, open_menu
from tests.identities import ZHANGSAN

ADDRESS = "zhangsan.notify@example.com"


def _bell_name(unread: int) -> str:
    return f"通知，{unread} 条未读" if unread else "通知"


async def _unread(bell: Locator) -> int:
    """The count the bell announces (its visually hidden "，3 条未读"; none when all are read)."""
    found = re.search(r"，(\d+) 条未读", await bell.text_content() or "")
    return int(found.group(1)) if found else 0


async def _enqueue_document_arrived(live_server: LiveServer, event_id: str, title: str) -> None:
    """What the e-service does when a document arrives, done directly in the server's database."""
    engine = create_engine(f"sqlite+aiosqlite:///{live_server.data_dir / 'portal.db'}")
    try:
        async with transaction(session_factory(engine)) as db:
            party_id = (await db.execute(
                select(Party.id).where(Party.id_number == ZHANGSAN.id_number))).scalar_one()
            await outbox.enqueue(db, event_id=event_id, kind=Kind.DOCUMENT_ARRIVED, party_id=party_id,
                                 renderer=outbox.renderer_for(live_server.url), context={
                                     "case_code": "FJ-FZ-2026-000123",
                                     "document_type": "行政处罚决定书",
                                     "agency_name": "福州市市场监督管理局",
                                     "document_title": title,
                                     "arrived_at": datetime.now(UTC),
                                 })
    finally:
        await engine.dispose()


async def _notice_stored(live_server: LiveServer, event_id: str) -> bool:
    engine = create_engine(f"sqlite+aiosqlite:///{live_server.data_dir / 'portal.db'}")
    try:
        async with session_factory(engine)() as db:
            found = await db.execute(select(Notice.id).where(Notice.dedupe_key == f"{event_id}:inbox"))
            return found.first() is not None
    finally:
        await engine.dispose()


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    """Await an outcome of the server's background worker (it polls every 2 s)."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.2)


async def test_party_chooses_email_and_the_bell_shows_the_new_notice(
        page: Page, live_server: LiveServer) -> None:
    await page.clock.install()
    await page.goto(live_server.url + "/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator("input[name=login][value=zhangsan]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/todo")
    bell = page.locator("header li.bell a")
    before = await _unread(bell)
    await expect(bell).to_have_accessible_name(_bell_name(before))

    await open_menu(page, "我的账户")
    await page.get_by_role("link", name="通知设置").click()
    await expect(page.locator("h1")).to_have_text("通知设置")
    assert "站内通知始终开启" in await page.locator("main").inner_text()
    await assert_accessible(page)
    await page.locator("#field-email").fill(ADDRESS)
    await page.get_by_label("通过电子邮件通知我").check()
    await page.get_by_role("button", name="保存通知设置").click()
    await expect(page.get_by_role("status").filter(has_text="通知设置已保存")).to_be_visible()
    assert "z***@example.com" in await page.locator("main").inner_text()
    await expect(page.get_by_label("通过电子邮件通知我")).to_be_checked()
    await assert_accessible(page)

    event_id = f"browser-test:{secrets.token_hex(8)}"
    title = f"关于张三的行政处罚决定书 {event_id[-4:]}"
    await _enqueue_document_arrived(live_server, event_id, title)
    mail = live_server.data_dir / "mail-sandbox" / f"{message_reference(f'{event_id}:email')}.eml"
    await _until(lambda: _notice_stored(live_server, event_id), "the in-portal notice is stored")
    await _until(lambda: asyncio.to_thread(Path.exists, mail), "the e-mail is in the mail sandbox")
    sent = message_from_bytes(mail.read_bytes(), policy=default_policy)
    assert sent["To"] == ADDRESS and "行政处罚决定书" in str(sent["Subject"])

    # No reload: htmx's poll (every 30 s) refreshes the bell on the page as it stands.
    await page.clock.fast_forward("00:31")
    await expect(bell).to_have_accessible_name(_bell_name(before + 1))

    await bell.click()
    await page.wait_for_url("**/notices")
    item = page.locator("li.notice-item", has_text=title)
    await expect(item.locator(".badge")).to_have_text("未读")
    await assert_accessible(page)
    await item.get_by_role("button", name=f"标为已读：新文书：{title}").click()
    await page.wait_for_url("**/notices")
    await expect(bell).to_have_accessible_name(_bell_name(before))
    await expect(page.locator("li.notice-item", has_text=title).locator(".badge")).to_have_count(0)
    await assert_accessible(page)
