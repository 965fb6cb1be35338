"""The notification settings page: the party switches e-mail and SMS on and off, the outbox
follows the choice for the next event, contacts are shown masked, saving needs a fresh login,
and bad input gets the error summary (SECURITY.md 7.5.1, 14.3.2; STYLE.md 11)."""

from __future__ import annotations

import httpx

from portal.database import transaction
from portal.services import notification_preferences
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import age_login, log_in, party_id_of
from tests.portal.workers.notification_factories import enqueue, messages

SETTINGS = "/account/notifications"


async def save(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {"csrf_token": await csrf_from(client, SETTINGS), "email": "", "mobile": "", **fields}
    return await client.post(SETTINGS, data=data)


async def channels_of_next_event(database: Database, party_id: int, event_id: str) -> dict[str, str]:
    """Enqueue an event as a service would; the channel → recipient rows it wrote."""
    await enqueue(database, party_id, event_id)
    return {row.channel: row.recipient
            for row in await messages(database, party_id=party_id)
            if row.dedupe_key.startswith(f"{event_id}:")}


async def test_saved_channels_decide_where_the_next_event_goes(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    party = await party_id_of(database)
    assert await channels_of_next_event(database, party, "before") == {"inbox": f"party:{party}"}

    saved = await save(client, email="Zhang.San@Example.COM", email_enabled="yes",
                       mobile="+86 138-0013-8000", sms_enabled="yes")
    assert saved.status_code == 303 and saved.headers["location"] == f"{SETTINGS}?saved=1"
    page = await client.get(saved.headers["location"])
    assert "通知设置已保存" in page.text
    assert await channels_of_next_event(database, party, "after") == {
        "inbox": f"party:{party}", "email": "Zhang.San@example.com", "sms": "13800138000"}

    # Blank fields keep what is on file; unticking SMS switches it off but keeps the number.
    await save(client, email_enabled="yes")
    assert await channels_of_next_event(database, party, "sms-off") == {
        "inbox": f"party:{party}", "email": "Zhang.San@example.com"}
    page = await client.get(SETTINGS)
    assert "138****8000" in page.text

    # "Delete" forgets a contact; the in-portal notice stays whatever is chosen.
    await save(client, email_clear="yes", mobile_clear="yes")
    assert await channels_of_next_event(database, party, "all-off") == {"inbox": f"party:{party}"}
    async with database.sessions() as db:
        stored = await notification_preferences.get_preferences(db, party)
    assert (stored.email, stored.mobile) == (None, None)


async def test_page_says_the_inbox_is_always_on_and_shows_contacts_masked(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    account = await client.get("/account")
    assert f'href="{SETTINGS}"' in account.text
    party = await party_id_of(database)
    async with transaction(database.sessions) as db:
        await notification_preferences.set_preferences(
            db, party, email="zhangsan@example.com", mobile="13800138000", email_enabled=True,
            sms_enabled=False)
    page = await client.get(SETTINGS)
    assert page.status_code == 200
    assert "站内通知始终开启，不能关闭" in page.text
    assert "z***@example.com" in page.text and "138****8000" in page.text
    # SECURITY.md 14.3.2: personal data, never cached; the full contacts never leave the server
    assert "zhangsan@example.com" not in page.text and "13800138000" not in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert 'name="email_enabled" value="yes" checked' in page.text
    assert 'name="sms_enabled" value="yes">' in page.text  # off, as stored


async def test_invalid_email_and_mobile_show_the_error_summary(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    refused = await save(client, email="zhangsan@", email_enabled="yes", mobile="12345",
                         sms_enabled="yes")
    assert refused.status_code == 422
    assert "提交的内容有以下问题" in refused.text
    assert 'href="#field-email"' in refused.text and 'href="#field-mobile"' in refused.text
    assert "请填写有效的电子邮箱地址" in refused.text and "请填写有效的 11 位手机号码" in refused.text
    assert 'value="zhangsan@"' in refused.text and 'value="12345"' in refused.text  # refilled
    assert 'aria-invalid="true"' in refused.text

    missing = await save(client, email_enabled="yes")  # on, but no address on file or given
    assert missing.status_code == 422 and "选择了邮件通知，请填写电子邮箱地址" in missing.text
    async with database.sessions() as db:
        stored = await notification_preferences.get_preferences(db, await party_id_of(database))
    assert not stored.email_enabled and not stored.sms_enabled and stored.email is None


async def test_a_stale_login_logs_in_again_before_contacts_change(
        client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Identity and sessions": contacts decide where notices go (v5.0.0-7.5.1)
    await log_in(client, "zhangsan")
    token = await csrf_from(client, SETTINGS)
    await age_login(database)
    form = {"csrf_token": token, "email": "attacker@example.com", "email_enabled": "yes", "mobile": ""}
    refused = await client.post(SETTINGS, data=form)
    assert refused.status_code == 303 and refused.headers["location"] == "/login?reauth=1"
    async with database.sessions() as db:
        stored = await notification_preferences.get_preferences(db, await party_id_of(database))
    assert stored.email is None and not stored.email_enabled

    back = await log_in(client, "zhangsan")  # the fresh login returns to the form, not a re-post
    assert back.status_code == 303 and back.headers["location"] == SETTINGS
    again = await save(client, email="zhangsan@example.com", email_enabled="yes")
    assert again.status_code == 303


async def test_saving_needs_the_csrf_token(client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Browser side" (v5.0.0-3.5.1)
    await log_in(client, "zhangsan")
    forged = await client.post(SETTINGS, data={"email": "x@example.com", "email_enabled": "yes"})
    assert forged.status_code == 403
    async with database.sessions() as db:
        stored = await notification_preferences.get_preferences(db, await party_id_of(database))
    assert stored.email is None


async def test_settings_need_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get(SETTINGS)
    assert response.status_code == 303 and response.headers["location"] == "/login"
