"""The bell and the notices page: the count on every page equals the unread notices, htmx
gets only the bell's block, marking read is a POST with the CSRF token, and nobody reaches
another party's notices (SECURITY.md 3.5.1, 3.5.3, 8.2.2, 14.3.2; STYLE.md 11)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from portal.cases import codes as case_codes
from portal.database import utcnow
from portal.models import Notice, WebSession
from tests.builders import case_world, sign_consent
from tests.builders import deliver as deliver_document
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import log_in, party_id_of
from tests.portal.workers.notification_factories import (
    DOCUMENT_FACTS,
    Clock,
    CountingChannel,
    enqueue,
    make_party,
    make_worker,
)

HTMX = {"HX-Request": "true"}
BELL = re.compile(r'<a href="/notices" class="bell-link">(.*?)</a>', re.S)


async def deliver(database: Database, party_id: int, *event_ids: str) -> None:
    """Events through the outbox and the worker, as in production: one notice each."""
    for event_id in event_ids:
        await enqueue(database, party_id, event_id,
                      context={**DOCUMENT_FACTS, "document_title": f"文书{event_id}"})
    clock = Clock()
    await make_worker(database, clock, email=CountingChannel(), sms=CountingChannel()).drain()


def bell_text(page: str) -> str:
    """What a screen reader hears for the bell link: its text without the aria-hidden part."""
    match = BELL.search(page)
    assert match, "no bell on the page"
    return re.sub(r'<span aria-hidden="true">.*?</span></span>|<[^>]+>', "", match.group(1))


async def notice_ids(database: Database, party_id: int) -> list[int]:
    async with database.sessions() as db:
        return list((await db.execute(select(Notice.id).where(Notice.party_id == party_id)
                                      .order_by(Notice.id))).scalars())


async def test_bell_counts_the_unread_notices_on_every_page(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    party = await party_id_of(database)
    assert bell_text((await client.get("/account")).text) == "通知"
    await deliver(database, party, "a", "b", "c")
    for path in ("/", "/account", "/mailbox", "/notices"):
        assert bell_text((await client.get(path)).text) == "通知，3 条未读", path
    page = (await client.get("/account")).text
    assert 'hx-get="/notices/bell" hx-trigger="load, every 30s"' in page


async def test_bell_fragment_is_the_block_for_htmx_and_the_page_without(
        client: httpx.AsyncClient, database: Database) -> None:
    # STYLE.md 11: the same template's block; the response says it varies with HX-Request
    await log_in(client, "zhangsan")
    await deliver(database, await party_id_of(database), "a", "b")
    fragment = await client.get("/notices/bell", headers=HTMX)
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["vary"]
    assert fragment.headers["cache-control"] == "private, no-store"
    assert fragment.text.strip().startswith('<a href="/notices" class="bell-link">')
    assert "<html" not in fragment.text and "<main" not in fragment.text
    assert bell_text(fragment.text) == "通知，2 条未读"
    full = await client.get("/notices/bell")
    assert "HX-Request" in full.headers["vary"]
    assert "<!DOCTYPE html>" in full.text and "文书b" in full.text


async def test_notices_newest_first_unread_marked_read_by_post_only(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    party = await party_id_of(database)
    await deliver(database, party, "first", "second")
    first, second = await notice_ids(database, party)
    page = await client.get("/notices")
    assert page.headers["cache-control"] == "private, no-store"
    assert page.text.index("文书second") < page.text.index("文书first")
    assert page.text.count('<span class="badge">未读</span>') == 2

    # SECURITY.md 3.5.1: opening pages or GET on the action changes nothing
    assert (await client.get(f"/notices/{first}/read")).status_code == 405
    assert (await client.get("/notices/read-all")).status_code == 405
    forged = await client.post(f"/notices/{first}/read")  # no CSRF token
    assert forged.status_code == 403
    assert bell_text((await client.get("/notices")).text) == "通知，2 条未读"

    token = await csrf_from(client, "/notices")
    marked = await client.post(f"/notices/{first}/read", data={"csrf_token": token})
    assert marked.status_code == 303 and marked.headers["location"] == "/notices"
    page = await client.get("/notices")
    assert bell_text(page.text) == "通知，1 条未读"
    assert page.text.count('<span class="badge">未读</span>') == 1
    again = await client.post(f"/notices/{first}/read", data={"csrf_token": token})
    assert again.status_code == 303  # marking twice is harmless and keeps the first time

    by_htmx = await client.post("/notices/read-all", headers={"X-CSRF-Token": token})
    assert by_htmx.status_code == 303
    assert bell_text((await client.get("/notices")).text) == "通知"
    async with database.sessions() as db:
        read = (await db.execute(select(Notice.read_at).where(Notice.id == second))).scalar_one()
    assert read is not None


async def test_another_partys_notice_is_not_found(client: httpx.AsyncClient,
                                                  database: Database) -> None:
    # SECURITY.md "Access control": a foreign id answers 404 (v5.0.0-8.2.2)
    await log_in(client, "zhangsan")
    other = await make_party(database)
    await deliver(database, other, "theirs")
    [foreign] = await notice_ids(database, other)
    token = await csrf_from(client, "/notices")
    for notice_id in (foreign, foreign + 1000, 2**63):
        response = await client.post(f"/notices/{notice_id}/read", data={"csrf_token": token})
        assert response.status_code == 404, notice_id
    await client.post("/notices/read-all", data={"csrf_token": token})
    page = await client.get("/notices")
    assert "文书theirs" not in page.text and "暂时没有通知" in page.text
    async with database.sessions() as db:
        still = (await db.execute(select(Notice.read_at).where(Notice.id == foreign))).scalar_one()
    assert still is None


async def test_bell_of_an_ended_session_stops_polling(client: httpx.AsyncClient) -> None:
    polled = await client.get("/notices/bell", headers=HTMX)
    assert polled.status_code == 286  # htmx cancels the polling; no login page in the header
    assert "登录" not in polled.text and bell_text(polled.text) == "通知"
    plain = await client.get("/notices/bell")
    assert plain.status_code == 303 and plain.headers["location"] == "/login"


@pytest.mark.parametrize("path, extends", [("/notices/bell", False), ("/notices", True)])
async def test_the_bell_poll_does_not_keep_the_session_alive(
        client: httpx.AsyncClient, database: Database, path: str, extends: bool) -> None:
    # SECURITY.md "Identity and sessions": the idle timeout holds while a tab polls (7.3.1)
    await log_in(client, "zhangsan")
    earlier = utcnow() - timedelta(minutes=5)
    async with database.sessions() as db:
        await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                         .values(last_seen_at=earlier))
        await db.commit()
    assert (await client.get(path, headers=HTMX)).status_code == 200
    async with database.sessions() as db:
        seen = (await db.execute(select(WebSession.last_seen_at)
                                 .where(WebSession.ended_at.is_(None)))).scalars().all()
    assert (max(seen) > earlier + timedelta(minutes=1)) is extends


async def test_a_notice_leads_to_its_document_and_opening_it_marks_the_notice_read(
        client: httpx.AsyncClient, database: Database, app: Starlette) -> None:
    # a notice leads to what it is about; ASVS v5.0.0-3.5.1: marking read only by a POST
    await log_in(client, "zhangsan")
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = app.state.blobs
    first = await deliver_document(database, blobs, w.party_id, w.case_id, title="榕市监告〔2026〕5号")
    second = await deliver_document(database, blobs, w.party_id, w.case_id, title="榕市监告〔2026〕6号")
    await make_worker(database, Clock(utcnow() + timedelta(seconds=5))).drain()
    async with database.sessions() as db:
        stored = {n.link: n for n in (await db.execute(select(Notice).where(
            Notice.party_id == w.party_id))).scalars()}
    assert {f"/mailbox/{first.public_id}", f"/mailbox/{second.public_id}", "/consent"} <= stored.keys()

    one = stored[f"/mailbox/{first.public_id}"]
    assert case_codes.display(w.case_code) in one.body  # read aloud in groups
    page = (await client.get("/notices")).text
    assert f'action="/notices/{one.id}/open"' in page
    assert f'action="/notices/{one.id}/open"' in (await client.get("/todo")).text  # 待办's, too
    assert (await client.get(f"/notices/{one.id}/open")).status_code == 405  # never by a GET
    token = await csrf_from(client, "/notices")
    opened = await client.post(f"/notices/{one.id}/open", data={"csrf_token": token})
    assert opened.status_code == 303 and opened.headers["location"] == f"/mailbox/{first.public_id}"

    # opening the document itself marks the notice that leads there read too
    path = f"/mailbox/{second.public_id}"
    await client.post(f"{path}/view", data={"csrf_token": await csrf_from(client, path)})
    async with database.sessions() as db:
        read = {n.link: n.read_at for n in (await db.execute(select(Notice).where(
            Notice.party_id == w.party_id))).scalars()}
    assert read[f"/mailbox/{first.public_id}"] and read[path] and read["/consent"] is None
