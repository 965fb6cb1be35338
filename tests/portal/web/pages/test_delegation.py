"""Delegation over HTTP with real parties (issue: several parties, delegation; SECURITY.md
"Access control", ASVS v5.0.0-8.2.2, 8.3.1): a party authorises another person, with a scope
and an end date, revocably; the delegate reads the mailbox and, with ``full`` scope only, acts;
every act names who acted for whom; revocation and expiry bite on the delegate's very next
request; delegates cannot delegate further; foreign ids are 404; grants and revocations are
in the principal's evidence chain, which verifies. Runs on SQLite and PostgreSQL.

A delegate outside their scope gets 404, not 403: the answer is the one any foreign id gets,
so a route never tells a delegate (or someone probing ids) more than "not yours to use".
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import select, text, update
from starlette.applications import Starlette

from portal.database import utcnow
from portal.legal_calendar import china_date
from portal.models import EvidenceEvent, PaperCopyRequest, Representation
from portal.services import evidence
from portal.workers.eservice import JOBS, EserviceDeps
from tests.builders import case_world, deliver, register_case, sign_consent
from tests.conftest import Database, csrf_from
from tests.identities import COMPANY
from tests.portal.web.delegation_flow import act_for, browser, grant, granted_id, person_id
from tests.portal.web.login_flow import log_in


async def chain_events(database: Database, party: int) -> list[EvidenceEvent]:
    async with database.sessions() as db:
        return list((await db.execute(select(EvidenceEvent).where(EvidenceEvent.chain == f"party:{party}")
                                      .order_by(EvidenceEvent.seq))).scalars())


async def zhangsan_with_mail(database: Database, app: Starlette, client: httpx.AsyncClient) -> str:
    """张三 logged in on ``client``, consent signed, one document delivered: its public id."""
    await log_in(client, "zhangsan")
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    delivery = await deliver(database, app.state.blobs, w.party_id, w.case_id)
    await JOBS.run_due(EserviceDeps(database.sessions, app.state.notary, app.state.blobs))
    return delivery.public_id


async def test_mailbox_delegate_reads_and_downloads_but_cannot_act(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    item = await zhangsan_with_mail(database, app, client)
    response = await grant(client, "mailbox")
    assert response.status_code == 303
    confirmation = await client.get(response.headers["location"])
    assert "已授权王五查看邮箱" in confirmation.text and "350102********7895" in confirmation.text
    zhangsan = await person_id(database, "张三")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        assert "张三（个人，仅查看邮箱）" in (await wangwu.get("/account")).text
        await act_for(wangwu, zhangsan)
        assert "当前身份：张三（由 王五 代为办理）" in (await wangwu.get("/mailbox")).text
        page = await wangwu.get(f"/mailbox/{item}")
        assert page.status_code == 200 and "不能代为申请纸质文书" in page.text
        token = await csrf_from(wangwu, f"/mailbox/{item}")
        pdf = await wangwu.post(f"/mailbox/{item}/document", data={"csrf_token": token})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        receipt = await wangwu.get(f"/mailbox/{item}/receipt")
        assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
        # an act needs full scope: the same 404 page as a foreign id
        refused = await wangwu.post(f"/mailbox/{item}/paper-copy", data={"csrf_token": token})
        assert refused.status_code == 404 and "页面不存在" in refused.text
        assert (await wangwu.get("/consent")).status_code == 404
    async with database.sessions() as db:
        assert (await db.execute(select(PaperCopyRequest))).first() is None
    wangwu_id = await person_id(database, "王五")
    read = [e for e in await chain_events(database, zhangsan) if e.kind == "read"]
    assert [e.actor for e in read] == [f"person:{wangwu_id} for party:{zhangsan}"]


async def test_full_delegate_acts_and_each_act_names_who_for_whom(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    item = await zhangsan_with_mail(database, app, client)
    await granted_id(client, "full")
    zhangsan = await person_id(database, "张三")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, zhangsan)
        token = await csrf_from(wangwu, f"/mailbox/{item}")
        assert (await wangwu.post(f"/mailbox/{item}/document", data={"csrf_token": token})).status_code == 200
        asked = await wangwu.post(f"/mailbox/{item}/paper-copy", data={"csrf_token": token})
        assert asked.status_code == 303
        # revoking consent: signed by 王五 himself (his own key), for 张三
        revoked = await wangwu.post("/consent/revoke", data={
            "csrf_token": await csrf_from(wangwu, "/consent"), "confirm_revoke": "yes"})
        assert revoked.status_code == 303, revoked.text
    wangwu_id = await person_id(database, "王五")
    acts = {e.kind: e.actor for e in await chain_events(database, zhangsan)}
    for kind in ("read", "paper_copy_requested", "consent_revoked"):
        assert acts[kind] == f"person:{wangwu_id} for party:{zhangsan}", kind
    assert acts["delegation_granted"] == f"party:{zhangsan}"


async def test_revocation_bites_on_the_delegates_next_request(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    item = await zhangsan_with_mail(database, app, client)
    delegation = await granted_id(client, "full")
    zhangsan = await person_id(database, "张三")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, zhangsan)
        assert "榕市监告〔2026〕3号" in (await wangwu.get("/mailbox")).text
        confirm = await client.get(f"/account/delegations/{delegation}/revoke")
        assert "确定撤回对王五的授权吗" in confirm.text
        token = await csrf_from(client, f"/account/delegations/{delegation}/revoke")
        revoked = await client.post(f"/account/delegations/{delegation}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        assert "已撤回对王五的授权" in (await client.get(revoked.headers["location"])).text
        # no new login, no switch: the very next request is back to 王五 himself
        listing = await wangwu.get("/mailbox")
        assert "榕市监告〔2026〕3号" not in listing.text
        assert "授权已被撤回或已到期" in listing.text and "当前身份：王五" in listing.text
        assert (await wangwu.get(f"/mailbox/{item}")).status_code == 404
        assert "授权已被撤回" not in (await wangwu.get("/mailbox")).text  # said once
        assert "切换办理身份" not in (await wangwu.get("/account")).text


async def test_expired_delegation_bites_likewise(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    item = await zhangsan_with_mail(database, app, client)
    delegation = await granted_id(client, "mailbox")
    zhangsan = await person_id(database, "张三")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, zhangsan)
        assert (await wangwu.get(f"/mailbox/{item}")).status_code == 200
        async with database.sessions() as db, db.begin():
            await db.execute(update(Representation).where(Representation.id == delegation)
                             .values(ends_at=utcnow() - timedelta(seconds=1)))
        expired = await wangwu.get(f"/mailbox/{item}")
        assert expired.status_code == 404 and "授权已被撤回或已到期" in expired.text
        assert "榕市监告〔2026〕3号" not in (await wangwu.get("/mailbox")).text
    page = await client.get("/account/delegations")
    assert "已到期" in page.text and f"/account/delegations/{delegation}/revoke" not in page.text


async def test_a_delegate_cannot_delegate_further(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await log_in(client, "zhangsan")
    await granted_id(client, "full")
    zhangsan = await person_id(database, "张三")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, zhangsan)
        assert "/account/delegations" not in (await wangwu.get("/account")).text
        assert (await wangwu.get("/account/delegations")).status_code == 404
        token = await csrf_from(wangwu, "/account")
        form = {"csrf_token": token, "delegate_name": "李四", "delegate_id_number": "350102199007154563",
                "scope": "full", "last_day": (china_date(utcnow()) + timedelta(days=3)).isoformat()}
        assert (await wangwu.post("/account/delegations", data=form)).status_code == 404
    async with database.sessions() as db:
        assert len((await db.execute(select(Representation))).all()) == 1


async def test_organisation_agent_grants_access_to_the_company_mailbox(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await log_in(client, "lisi")  # acts for 福州示例科技有限公司 by default
    w = await case_world(database)
    company = await person_id(database, "福州示例科技有限公司")
    lisi = await person_id(database, "李四")
    case_id = (await register_case(database, w.agency_id, "榕市监处罚〔2026〕9号", COMPANY)).id
    await sign_consent(database, company)
    delivery = await deliver(database, app.state.blobs, company, case_id, title="榕市监告〔2026〕9号")
    listing = await client.get("/account/delegations")
    assert "李四" in listing.text and "统一身份认证平台确认的单位经办人" in listing.text
    delegation = await granted_id(client, "mailbox")
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")
        await act_for(wangwu, company)
        assert "榕市监告〔2026〕9号" in (await wangwu.get("/mailbox")).text
        assert (await wangwu.get(f"/mailbox/{delivery.public_id}")).status_code == 200
    granted = [e for e in await chain_events(database, company) if e.kind == "delegation_granted"]
    assert granted[0].actor == f"person:{lisi} for party:{company}"
    assert json.loads(granted[0].payload)["representation"] == delegation


async def test_foreign_delegation_id_is_404(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await log_in(client, "zhangsan")
    delegation = await granted_id(client, "mailbox")
    async with browser(app) as lisi:
        await log_in(lisi, "lisi")
        token = await csrf_from(lisi, "/account/delegations")
        path = f"/account/delegations/{delegation}"
        assert (await lisi.get(path)).status_code == 404
        assert (await lisi.get(f"{path}/revoke")).status_code == 404
        assert (await lisi.post(f"{path}/revoke", data={"csrf_token": token})).status_code == 404
        for malformed in ("0", "abc", "99999999999", "１"):
            assert (await lisi.get(f"/account/delegations/{malformed}")).status_code == 404
    async with database.sessions() as db:
        row = await db.get(Representation, delegation)
    assert row is not None and row.revoked_at is None


async def test_grant_and_revocation_are_in_the_principals_chain_which_verifies(
        database: Database, client: httpx.AsyncClient) -> None:
    await log_in(client, "zhangsan")
    delegation = await granted_id(client, "mailbox")
    token = await csrf_from(client, f"/account/delegations/{delegation}")
    for _ in range(2):  # a second press changes nothing
        await client.post(f"/account/delegations/{delegation}/revoke", data={"csrf_token": token})
    zhangsan = await person_id(database, "张三")
    wangwu = await person_id(database, "王五")
    events = await chain_events(database, zhangsan)
    assert [e.kind for e in events] == ["delegation_granted", "delegation_revoked"]
    granted = json.loads(events[0].payload)
    assert granted["agent"] == wangwu and granted["scope"] == "mailbox"
    assert granted["granted_by"] == zhangsan and "350102197811037895" not in events[0].payload
    async with database.sessions() as db:
        row = await db.get(Representation, delegation)
        report = await evidence.verify_chains(db, f"party:{zhangsan}")
    assert row is not None and row.revoked_at == events[1].occurred_at
    assert row.granted_at == events[0].occurred_at and row.granted_by_person_id == zhangsan
    assert report.ok and report.events == 2


async def test_grant_form_explains_each_problem(database: Database, app: Starlette,
                                                client: httpx.AsyncClient) -> None:
    async with browser(app) as wangwu:
        await log_in(wangwu, "wangwu")  # 王五 is on record under his verified name
    await log_in(client, "zhangsan")
    cases = [
        ({"delegate_id_number": "350102197811037894"}, "delegate_id_number", "正确的18位公民身份号码"),
        ({"delegate_name": "王六"}, "delegate_name", "姓名与公民身份号码不一致"),
        ({"delegate_name": "", "delegate_id_number": "35010219850312123X"}, "delegate_name",
         "请填写被授权人的姓名"),
        ({"delegate_name": "张三", "delegate_id_number": "35010219850312123X"}, "delegate_id_number",
         "不能授权给自己"),
        ({"scope": "everything"}, "scope", "请选择授权范围"),
        ({"last_day": "2020-01-01"}, "last_day", "不能早于今天"),
        ({"last_day": "31/01/2027"}, "last_day", "按“年-月-日”填写"),
    ]
    for fields, field, words in cases:
        response = await grant(client, fields=fields)
        assert response.status_code == 422, fields
        assert "提交的内容有以下问题" in response.text and f'href="#field-{field}"' in response.text
        assert words in response.text, fields
    too_far = await grant(client, days=3 * 366 + 1)
    assert too_far.status_code == 422 and "授权截止日期不能晚于" in too_far.text
    assert (await grant(client)).status_code == 303
    again = await grant(client)
    assert again.status_code == 422 and "已授权此人且仍然有效" in again.text
    async with database.sessions() as db:
        assert len((await db.execute(select(Representation))).all()) == 1


async def test_granting_needs_a_recent_login(database: Database, client: httpx.AsyncClient) -> None:
    # SECURITY.md "Identity and sessions" (v5.0.0-7.5.1): it hands someone the party's legal mail
    await log_in(client, "zhangsan")
    async with database.engine.begin() as connection:
        for token_hash, data in (await connection.execute(
                text("SELECT token_hash, data FROM web_sessions"))).all():
            data = data if isinstance(data, dict) else json.loads(data)
            if "user" in data:
                data["auth_time"] = 0
                await connection.execute(text("UPDATE web_sessions SET data = :d WHERE token_hash = :h"),
                                         {"d": json.dumps(data), "h": token_hash})
    response = await grant(client, "full")
    assert response.status_code == 303 and response.headers["location"] == "/login?reauth=1"
    async with database.sessions() as db:
        assert (await db.execute(select(Representation))).first() is None
