"""Reminders and hearing notices fire from real events: an agency's case event, a
party's act, a payment; each test starts from the event and ends at the outbox row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from notifications import Kind
from portal.blobstore.files import FileBlobStore
from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.legal_calendar import china_date
from portal.models.cases import Case
from portal.models.outbox import OutboxMessage, ReminderDeadline
from portal.services import case_followups, reminders
from portal.services.agencies import NewClient
from portal.services.calendar import load_calendar
from portal.services.outbox import renderer_for
from portal.settings import Settings
from portal.workers.reminders import ReminderJob
from tests.builders import fine_world
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.cases.factories import filed
from tests.portal.web.api.conftest import PUBLIC_URL, bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE, NOTICE, register
from tests.portal.web.pages.payment_factories import notice_body, place_order, post_callback, signed


async def _case_informed(api: httpx.AsyncClient, token: str, informed: datetime) -> str:
    body = {**NEW_CASE, "parties": [ZHANGSAN.api]}
    code = (await register(api, token, body)).json()["code"]
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": NOTICE["kind"], "data": {**NOTICE["data"], "informed_at": instant_text(informed),
                                          "occurred_at": instant_text(informed - timedelta(minutes=30))}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["warnings"] == []
    return code


async def _registered(database: Database) -> list[ReminderDeadline]:
    async with database.sessions() as db:
        return list((await db.execute(select(ReminderDeadline).order_by(ReminderDeadline.kind))).scalars())


async def _reminders_at(database: Database, now: datetime) -> int:
    async with database.sessions() as db:
        calendar = await load_calendar(db)
    job = ReminderJob(database.sessions, renderer_for(PUBLIC_URL), calendar, clock=lambda: now)
    return await job.run_once()


async def _outbox(database: Database, kind: Kind) -> list[OutboxMessage]:
    async with database.sessions() as db:
        return list((await db.execute(select(OutboxMessage).where(
            OutboxMessage.kind == kind.value).order_by(OutboxMessage.id))).scalars())


async def test_prior_notice_registers_both_windows_and_the_reminder_reaches_the_outbox(
        api: httpx.AsyncClient, database: Database, agency_a: NewClient, data_dir: Path) -> None:
    # APL art. 44, 45, 64(1): the prior notice starts the statement and hearing-request
    # windows; each is registered when it starts, reminded 2 working days ahead, and the
    # statement's reminder stops when the party states
    token = await fetch_token(api, agency_a)
    await _case_informed(api, token, utcnow() - timedelta(hours=1))
    rows = await _registered(database)
    assert [(r.kind, r.acted_at) for r in rows] == [("hearing_request", None), ("statement", None)]
    assert rows[0].deadline_ends_at == rows[1].deadline_ends_at
    async with database.sessions() as db:
        case = (await db.execute(select(Case))).scalar_one()
    await filed(database, FileBlobStore(data_dir / "blobs"), case)  # 陈述、申辩
    rows = await _registered(database)
    assert [r.kind for r in rows if r.acted_at is not None] == ["statement"]
    assert await _reminders_at(database, rows[0].deadline_ends_at - timedelta(hours=2)) == 1
    [reminder] = await _outbox(database, Kind.DEADLINE_REMINDER)
    assert reminder.party_id == rows[0].party_id
    assert reminder.context["deadline_name"] == "申请听证期限"
    assert reminder.context["deadline_date"] == reminders.last_day(rows[0].deadline_ends_at).isoformat()


async def test_scheduled_hearing_notifies_the_party_and_warns_when_short(
        api: httpx.AsyncClient, database: Database, agency_a: NewClient) -> None:
    # APL art. 64(2), 85: the hearing's time and place reach the party's notices when the
    # agency records them; told through the portal 4 days ahead while the agency says it
    # notified earlier on paper, the answer warns that fewer than 7 working days remain
    token = await fetch_token(api, agency_a)
    now = utcnow()
    code = await _case_informed(api, token, now - timedelta(days=20))
    hearing_day = china_date(now) + timedelta(days=4)
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": "hearing_scheduled", "data": {
            "occurred_at": instant_text(now - timedelta(days=19)), "hearing_date": hearing_day.isoformat(),
            "hearing_time": "09:30", "place": "福州市鼓楼区听证室", "public": True}})
    assert answer.status_code == 201, answer.text
    [warning] = answer.json()["warnings"]
    assert warning["code"] == "hearing_notice_short" and warning["hearing_date"] == hearing_day.isoformat()
    assert warning["working_days_before_hearing"] < 7 and "第六十四条第二项" in warning["detail"]
    [notice] = await _outbox(database, Kind.HEARING_SCHEDULED)
    assert notice.channel == "inbox" and notice.template_version == 2
    assert {k: v for k, v in notice.context.items() if k != "agency_name"} == {
        "case_code": code, "hearing_date": hearing_day.isoformat(), "hearing_time": "09:30",
        "hearing_place": "福州市鼓楼区听证室"}


async def test_decision_registers_payment_and_remedies_and_a_remedy_started_is_acted_on(
        api: httpx.AsyncClient, database: Database, agency_a: NewClient) -> None:
    # APL art. 67: the decision served starts the 15 days, registered for a reminder; the
    # remedies too (Administrative Reconsideration Law art. 20, Administrative Procedure Law
    # art. 46); starting a reconsideration is acting on it
    token = await fetch_token(api, agency_a)
    now = utcnow()
    code = await _case_informed(api, token, now - timedelta(days=20))
    decided: dict[str, Any] = {"kind": "decided", "data": {
        "decision_number": "榕市监罚字〔2026〕88号", "penalty": "罚款人民币一万元", "fine_fen": 1_000_000,
        "served_at": instant_text(now - timedelta(hours=1)),
        "occurred_at": instant_text(now - timedelta(hours=2))}}
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json=decided)
    assert answer.status_code == 201, answer.text
    kinds = {r.kind: r for r in await _registered(database)}
    assert {"payment", "reconsideration", "lawsuit"} <= kinds.keys()
    assert (await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": "reconsideration_started", "data": {"body": "福州市人民政府"}})).status_code == 201
    acted = {r.kind for r in await _registered(database) if r.acted_at is not None}
    assert "reconsideration" in acted and "payment" not in acted
    assert reminders.last_day(kinds["payment"].deadline_ends_at) >= china_date(now) + timedelta(days=14)


async def test_a_payment_that_settles_the_fine_marks_the_payment_deadline_acted(
        api: httpx.AsyncClient, database: Database, app: Starlette, settings: Settings) -> None:
    # APL art. 67: the decision served starts 15 days to pay (registered for a reminder); the
    # platform's confirmation of the whole amount is the party's act: no reminder any more
    fw = await fine_world(database, served_days_ago=0)
    now = utcnow()
    async with transaction(database.sessions) as db:
        case = (await db.execute(select(Case).where(Case.code == fw.world.case_code))).scalar_one()
        month_ago = instant_text(now - timedelta(days=30))
        notice = {**NOTICE["data"], "occurred_at": month_ago, "informed_at": month_ago}
        decided = {"decision_number": "榕市监罚〔2026〕7号", "penalty": "罚款人民币一千元",
                   "fine_fen": 100_000, "occurred_at": instant_text(now - timedelta(days=1)),
                   "served_at": instant_text(now - timedelta(hours=20))}
        for kind, data in (("penalty_notice", notice), ("decided", decided)):
            await case_followups.record_event(db, case, kind, data, "agency:test",
                                              renderer=renderer_for(PUBLIC_URL))
    payment = next(r for r in await _registered(database) if r.kind == "payment")
    assert payment.acted_at is None
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(api, body, signed(settings, body))).status_code == 200
    payment = next(r for r in await _registered(database) if r.kind == "payment")
    assert payment.acted_at is not None
