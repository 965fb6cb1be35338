"""我的待办: login lands there; what needs the party's attention, most urgent first,
each one link from its task; a party with nothing to do is told so plainly; another party's
matters never show. Starts from the real events (a decision served 40 days ago, a prior notice,
a document arriving, a notice stored by the worker); both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from notifications import InboxNotice
from portal.database import transaction
from portal.evidence_hash import instant_text
from portal.models.cases import Case
from portal.services import cases, notices
from portal.services.notification_preferences import party_reference
from tests.builders import deliver, fine_world, sign_consent
from tests.conftest import Database
from tests.portal.web.login_flow import log_in

NOTICE = {"proposed_penalty": "罚款人民币一万元", "proposed_fine_fen": 1_000_000,
          "facts": "销售超过保质期的酸奶", "legal_basis": "《中华人民共和国食品安全法》第一百二十四条"}


def _titles(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", title).strip()
            for title in re.findall(r'<span class="todo-title">(.*?)</span>', page, re.S)]


async def test_nothing_to_do_is_said_plainly(client: httpx.AsyncClient, database: Database) -> None:
    response = await log_in(client, "wangwu")
    assert response.headers["location"] == "/todo"  # login lands on 我的待办
    page = await client.get("/todo")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert "王五目前没有需要处理的事项" in page.text and 'class="todo-list"' not in page.text
    # the header's first link leads here too
    assert re.search(r'<a class="site-name" href="/todo">', page.text)


async def test_the_most_urgent_first_each_a_link_to_its_task(
        client: httpx.AsyncClient, database: Database, app: Starlette) -> None:
    # APL art. 72 (an overdue fine grows daily), APL art. 44, 45, 64 (the windows after a
    # prior notice), FJ art. 19 (a document served but not opened)
    overdue = await fine_world(database, served_days_ago=40)
    w = overdue.world
    async with transaction(database.sessions) as db:
        case = await db.get(Case, w.case_id)
        assert case is not None
        informed = datetime.now(UTC) - timedelta(hours=2)
        await cases.add_stage_event(db, case, "penalty_notice", {
            **NOTICE, "occurred_at": instant_text(informed - timedelta(hours=1)),
            "informed_at": instant_text(informed)}, "agency:test")
    await sign_consent(database, w.party_id)
    arrived = await deliver(database, app.state.blobs, w.party_id, w.case_id,
                            title="榕市监告〔2026〕9号 行政处罚事先告知书")
    async with transaction(database.sessions) as db:
        await notices.store_notice(db, InboxNotice(party_reference(w.party_id), "缴款提醒", "请按时缴款",
                                                   1, "test:reminder"))

    await log_in(client, "zhangsan")
    page = (await client.get("/todo")).text
    titles = _titles(page)
    assert titles[0].startswith("已逾期，今日应缴罚款")  # the surcharge grows every day
    assert titles[1:4] == ["提交陈述、申辩", "申请听证", "查看文书：榕市监告〔2026〕9号 行政处罚事先告知书"]
    assert titles[4:] == ["通知：缴款提醒"]  # notices have no last day: after everything that has
    assert f'href="/fines/{overdue.fine_id}"' in page
    assert f'href="/cases/{w.case_code}/statement"' in page and f'href="/mailbox/{arrived.public_id}"' in page
    assert re.search(r"（星期.）24:00 前，还剩 <strong>\d+</strong> 个工作日", page)

    await log_in(client, "lisi")  # another party: none of 张三's matters
    other = (await client.get("/todo")).text
    assert overdue.fine_id not in other and w.case_code not in other and "缴款提醒" not in other


async def test_anonymous_visitors_are_sent_to_log_in(client: httpx.AsyncClient, database: Database) -> None:
    response = await client.get("/todo")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
