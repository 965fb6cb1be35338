"""The mailbox: the party sees what arrived with its service time and deadlines; reading is
recorded once and never moves the service time; paper copies can be asked for; nobody else
sees the item; a damaged file is never served (Civil Procedure Law art. 90;
SECURITY.md 8.2.2)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, text
from starlette.applications import Starlette

from portal.database import transaction, utcnow
from portal.legal_calendar import china_date
from portal.models.cases import Case
from portal.models.eservice import Delivery, DeliveryRead, PaperCopyRequest
from portal.models.parties import Party
from portal.services import cases, deliveries
from tests.builders import RENDERER, case_world, sign_consent
from tests.conftest import CSRF_RE, Database, overwrite_blob
from tests.portal.cases.factories import NOTICE, decide, notified_case
from tests.portal.web.login_flow import log_in


async def _deliver(database: Database, app: Starlette, party_id: int, case_id: int,
                   document_type: str = "行政处罚事先告知书") -> Delivery:
    request = deliveries.DeliveryRequest(document_type, "榕市监告〔2026〕3号", b"%PDF-1.7 notice", None)
    async with transaction(database.sessions) as db:
        case = await db.get(Case, case_id)
        party = await db.get(Party, party_id)
        assert case and party
        return await deliveries.deliver(db, app.state.blobs, case=case, party=party, request=request,
                                        fingerprint="e" * 64, actor="agency:1", renderer=RENDERER)


async def _prepared(database: Database, app: Starlette, client: httpx.AsyncClient) -> Delivery:
    await log_in(client, "zhangsan")  # creates 张三's party row with the demo ID number
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    async with transaction(database.sessions) as db:
        case = await db.get(Case, w.case_id)
        assert case is not None
        await cases.add_stage_event(db, case, "penalty_notice", NOTICE, "agency:test")
    return await _deliver(database, app, w.party_id, w.case_id)


async def _csrf(client: httpx.AsyncClient, path: str) -> str:
    match = CSRF_RE.search((await client.get(path)).text)
    assert match
    return match.group(1)


async def test_party_sees_the_item_with_service_time_and_deadlines(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 64(1), 85: the hearing request window runs 5 working days from service
    delivery = await _prepared(database, app, client)
    listing = await client.get("/mailbox")
    assert "榕市监告〔2026〕3号" in listing.text and "未读" in listing.text
    assert "1</strong> 份文书尚未查看" in listing.text
    page = await client.get(f"/mailbox/{delivery.public_id}")
    assert page.status_code == 200
    assert "申请听证期限" in page.text and "5个工作日" in page.text
    assert delivery.arrived_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") in page.text
    assert page.headers["cache-control"] == "private, no-store"


async def test_viewing_records_the_first_reading_and_shows_the_pdf_inline_sandboxed(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # FJ art. 19 (reading changes nothing of the service), ASVS v5.0.0-3.5.1 (the record is a
    # POST), 3.2.1 / 5.4.2 (inline only for a document whose seal and hash the portal checked)
    delivery = await _prepared(database, app, client)
    path = f"/mailbox/{delivery.public_id}"
    page = (await client.get(path)).text
    first_screen = page.split('<section aria-labelledby="deadlines-title">')[0]
    assert "查看文书</button>" in first_screen and "下载文书（PDF）</button>" in first_screen
    assert "SHA-256" not in first_screen  # technical details come later, under 技术信息
    opened = await client.post(f"{path}/view", data={"csrf_token": await _csrf(client, path)})
    assert opened.status_code == 303 and opened.headers["location"] == f"{path}/view.pdf"
    pdf = await client.get(opened.headers["location"])
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 notice"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline;")
    assert pdf.headers["content-security-policy"].startswith("sandbox;")
    assert pdf.headers["x-content-type-options"] == "nosniff" and "no-store" in pdf.headers["cache-control"]
    await client.post(f"{path}/view", data={"csrf_token": await _csrf(client, path)})
    async with database.sessions() as db:
        assert len((await db.execute(select(DeliveryRead))).scalars().all()) == 1
    assert "尚未查看" not in (await client.get(path)).text


async def test_reading_is_recorded_once_and_service_time_stays(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # FJ art. 19: service is arrival, not reading
    delivery = await _prepared(database, app, client)
    path = f"/mailbox/{delivery.public_id}"
    for _ in range(2):
        pdf = await client.post(f"{path}/document", data={"csrf_token": await _csrf(client, path)})
        assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 notice"
        # v5.0.0-3.2.1, 5.4.2: an attachment with an RFC 6266 name, never rendered inline
        assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
    async with database.sessions() as db:
        reads = (await db.execute(select(DeliveryRead))).scalars().all()
        stored = await db.get(Delivery, delivery.id)
        read_events = (await db.execute(text(
            "SELECT count(*) FROM evidence_events WHERE kind = 'read'"))).scalar_one()
    assert len(reads) == 1 and read_events == 1
    assert stored is not None and stored.arrived_at == delivery.arrived_at
    # GET never marks as read (SECURITY.md v5.0.0-3.5.3)
    assert "尚未查看" not in (await client.get(path)).text


async def test_paper_copy_request_is_recorded_and_the_agency_sees_it(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # Civil Procedure Law art. 90
    delivery = await _prepared(database, app, client)
    path = f"/mailbox/{delivery.public_id}"
    response = await client.post(f"{path}/paper-copy", data={"csrf_token": await _csrf(client, path)})
    assert response.status_code == 303
    assert "已向执法机关提出纸质文书申请" in (await client.get(response.headers["location"])).text
    async with database.sessions() as db:
        from portal.services import delivery_views

        assert (await db.execute(select(PaperCopyRequest))).scalar_one() is not None
        view = await delivery_views.agency_view(db, delivery)
    assert view.to_json()["paper_copy_requested_at"] is not None


async def test_another_party_gets_404_for_every_mailbox_route(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    delivery = await _prepared(database, app, client)
    path = f"/mailbox/{delivery.public_id}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await log_in(other, "wangwu")
        token = await _csrf(other, "/mailbox")
        assert (await other.get(path)).status_code == 404
        assert (await other.post(f"{path}/document", data={"csrf_token": token})).status_code == 404
        assert (await other.post(f"{path}/paper-copy", data={"csrf_token": token})).status_code == 404
        assert (await other.get(f"{path}/receipt")).status_code == 404
        assert "榕市监告" not in (await other.get("/mailbox")).text


async def test_a_changed_file_is_an_alarm_not_a_silent_serve(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    delivery = await _prepared(database, app, client)
    await overwrite_blob(app.state.blobs, delivery.document_sha256, b"%PDF-1.7 forged")
    path = f"/mailbox/{delivery.public_id}"
    response = await client.post(f"{path}/document", data={"csrf_token": await _csrf(client, path)})
    assert response.status_code == 500
    assert "forged" not in response.text and "与送达时的摘要不一致" in response.text


async def test_a_deferral_after_service_is_shown_beside_the_decision_s_payment_deadline(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 66-67: the decision starts 15 days to pay; an approved deferral moves it. The
    # mailbox keeps saying what the decision started, and says that it no longer holds.
    await log_in(client, "zhangsan")
    case = await notified_case(database, "榕市监处罚〔2026〕77号", informed=utcnow() - timedelta(days=12))
    async with transaction(database.sessions) as db:
        await decide(db, case)
        party_id = (await cases.parties(db, case))[0].id
    await sign_consent(database, party_id)
    delivery = await _deliver(database, app, party_id, case.id, document_type="行政处罚决定书")
    before = await client.get(f"/mailbox/{delivery.public_id}")
    assert "缴纳罚款期限" in before.text and "变更了此期限" not in before.text

    new_last_day = china_date(utcnow()) + timedelta(days=60)
    async with transaction(database.sessions) as db:
        await cases.add_stage_event(db, case, "window_extended", {
            "deadline": "payment", "new_last_day": new_last_day.isoformat(),
            "reason": "经济困难，批准暂缓缴纳"}, "agency:test")
    after = (await client.get(f"/mailbox/{delivery.public_id}")).text
    shown = f"{new_last_day.year}年{new_last_day.month}月{new_last_day.day}日"
    assert "变更了此期限" in after and shown in after
    assert f'href="/cases/{case.code}"' in after


async def _notice_served(database: Database, app: Starlette, *, hearing_right: bool) -> Delivery:
    """A case whose (renewed) prior notice was served through the portal."""
    case = await notified_case(database, "榕市监处罚〔2026〕78号", informed=utcnow() - timedelta(days=12),
                               hearing_right=hearing_right)
    async with transaction(database.sessions) as db:
        party_id = (await cases.parties(db, case))[0].id
        await cases.add_stage_event(db, case, "penalty_notice", NOTICE, "agency:test")
    await sign_consent(database, party_id)
    return await _deliver(database, app, party_id, case.id)


async def test_no_hearing_window_in_the_mailbox_of_a_case_without_the_hearing_right(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 63, 64(1): the mailbox showed a hearing-request deadline for every
    # 事先告知书; it shows the case's deadlines, so only where the case has the hearing right
    await log_in(client, "zhangsan")
    notice = await _notice_served(database, app, hearing_right=False)
    page = (await client.get(f"/mailbox/{notice.public_id}")).text
    assert "陈述、申辩期限" in page and "申请听证期限" not in page


async def test_no_payment_deadline_in_the_mailbox_for_a_decision_without_a_fine(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # APL art. 67: a 决定书 without a fine starts the remedy periods, not 15 days to pay
    await log_in(client, "zhangsan")
    case = await notified_case(database, "榕市监处罚〔2026〕79号", informed=utcnow() - timedelta(days=12))
    async with transaction(database.sessions) as db:
        party_id = (await cases.parties(db, case))[0].id
        await cases.add_stage_event(db, case, "decided", {
            "decision_number": "榕市监罚字〔2026〕9号", "penalty": "警告", "fine_fen": 0}, "agency:test")
    await sign_consent(database, party_id)
    decision = await _deliver(database, app, party_id, case.id, document_type="行政处罚决定书")
    page = (await client.get(f"/mailbox/{decision.public_id}")).text
    assert "缴纳罚款期限" not in page
    assert "申请行政复议期限" in page and "提起行政诉讼期限" in page


async def test_mailbox_case_page_and_api_show_the_same_deadlines(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # one place for deadlines; the decision served through the portal starts the
    # payment and remedy periods, and all three readers give the same last days
    await log_in(client, "zhangsan")
    case = await notified_case(database, "榕市监处罚〔2026〕80号", informed=utcnow() - timedelta(days=12))
    async with transaction(database.sessions) as db:
        await decide(db, case)
        party_id = (await cases.parties(db, case))[0].id
    await sign_consent(database, party_id)
    decision = await _deliver(database, app, party_id, case.id, document_type="行政处罚决定书")
    mailbox_page = (await client.get(f"/mailbox/{decision.public_id}")).text
    case_page = (await client.get(f"/cases/{case.code}")).text
    async with database.sessions() as db:
        from portal.services.calendar import load_calendar

        stored = await db.get(Case, case.id)
        assert stored is not None
        shown = await cases.deadlines(db, stored, party_id, await load_calendar(db))
    by_kind = {d.kind.value: d.last_day for d in shown}
    assert {"payment", "reconsideration", "lawsuit"} <= by_kind.keys()
    for kind in ("payment", "reconsideration", "lawsuit"):
        day = f"{by_kind[kind].year}年{by_kind[kind].month}月{by_kind[kind].day}日"
        assert f"截止 {day} 24:00" in mailbox_page, kind
        assert by_kind[kind].isoformat() in case_page, kind
