"""Per-purpose keys (once one SECRET_KEY derived QR tokens, receipt check codes, sessions
and CSRF with no rotation): each purpose has its own HKDF-derived key under a key id, so the
session and CSRF keys rotate (everyone is logged out) while the QR codes printed on documents
and the check codes printed on fiscal receipts stay valid. SECURITY.md "Identity and
sessions" (v5.0.0-7.4.1), "Business logic" (v5.0.0-11.5.1)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from payments.receipts import check_code
from portal.app import create_app
from portal.cases import codes as case_codes
from portal.errors import ConfigurationError
from portal.keys import PURPOSES
from tests.builders import PageWorld
from tests.conftest import Database, csrf_from, make_settings
from tests.portal.web.login_flow import log_in, session_cookie


async def test_rotating_session_keys_ends_sessions_but_not_printed_codes(
        database: Database, data_dir: Path, world: PageWorld) -> None:
    key = secrets.token_urlsafe(48)
    before = make_settings(database.url, data_dir, SECRET_KEY=key)
    after = make_settings(database.url, data_dir, SECRET_KEY=key, KEY_IDS="session=2,csrf=2")
    assert len({before.key(purpose) for purpose in PURPOSES}) == len(PURPOSES)  # one key each
    old_app, new_app = create_app(before), create_app(after)
    try:
        printed = case_codes.case_url("", before.key_text("case_qr"), world.person_case)
        issued = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
        receipt_check = check_code(before.key("receipt_check"), "35010001", "0000000001", 50_000, issued)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=old_app),
                                     base_url="http://testserver") as browser:
            await log_in(browser, "zhangsan")
            assert "退出登录" in (await browser.get("/account")).text
            token = await csrf_from(browser, "/account")
            cookie = session_cookie(browser)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=new_app),
                                     base_url="http://testserver",
                                     cookies={"portal_session": cookie or ""}) as browser:
            assert (await browser.get("/account")).status_code == 303  # the session ended
            refused = await browser.post("/logout", data={"csrf_token": token})
            assert refused.status_code == 403  # and the old form token with it
            scanned = await browser.get(printed)  # the QR code on a printed document
            assert scanned.status_code == 200 and "案件公开状态" in scanned.text
        assert check_code(after.key("receipt_check"), "35010001", "0000000001", 50_000, issued) \
            == receipt_check  # the check code printed on a fiscal receipt
    finally:
        for app in (old_app, new_app):
            await app.state.notary.aclose()
            await app.state.engine.dispose()


def test_key_ids_are_checked(database: Database, data_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="KEY_IDS"):
        make_settings(database.url, data_dir, KEY_IDS="sessions=2")
    with pytest.raises(ConfigurationError, match="KEY_IDS"):
        make_settings(database.url, data_dir, KEY_IDS="session=")
