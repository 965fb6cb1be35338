"""An agency approves payment by instalments (APL art. 66) and the fine follows the plan: the
``instalments_approved`` case event and its refusals, the case's payment deadline, the fine's
quote (each instalment its own due date and surcharge), the order that collects what is due
now, the receipt of what it settled, and the party's pages. Every API response is checked
against the OpenAPI document by the ``api`` client; both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from notifications import Kind
from portal.legal_calendar import china_date
from portal.models.outbox import OutboxMessage, ReminderDeadline
from portal.services import reminders
from portal.services.agencies import NewClient
from portal.services.calendar import load_calendar
from portal.services.outbox import renderer_for
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from portal.workers.reminders import ReminderJob
from tests.builders import FINE_FEN, FineWorld, fine_world, today
from tests.conftest import Database
from tests.portal.web.api.conftest import PUBLIC_URL, bearer, fetch_token
from tests.portal.web.api.factories import Headers, days_ago, decide, decided_fine, instalment_plan
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)


async def _fine(api: httpx.AsyncClient, token: Headers, fw: FineWorld) -> dict[str, Any]:
    response = await api.get(f"/api/v1/fines/{fw.fine_id}", headers=token)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_an_approved_plan_is_recorded_and_the_fine_and_deadline_follow_it(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 66: the plan replaces the single due date; the latest of plan and deferral applies
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token)
    first, second, third = (today() + timedelta(days=n) for n in (5, 35, 65))
    approved = await api.post(events, headers=token,
                              json=instalment_plan((first, 30_000), (second, 30_000), (third, 40_000)))
    assert approved.status_code == 201, approved.text
    assert approved.json()["kind"] == "instalments_approved"
    assert approved.json()["data"]["instalments"][2] == {"due_date": third.isoformat(), "amount_fen": 40_000}

    case = (await api.get(f"/api/v1/cases/{fw.world.case_code}", headers=token)).json()
    assert case["stage"] == "decided"  # a change of the payment period, not a stage
    payment = next(d for d in case["deadlines"] if d["kind"] == "payment")
    assert payment["last_day"] == third.isoformat() and not payment["extended"]
    assert [i["amount_fen"] for i in payment["instalments"]] == [30_000, 30_000, 40_000]
    assert "执法机关已批准分期缴纳" in payment["explanation"]
    assert all(d["instalments"] is None for d in case["deadlines"] if d["kind"] != "payment")

    fine = await _fine(api, token, fw)
    assert fine["state"] == "unpaid" and fine["effective_due_date"] == first.isoformat()
    assert fine["amount_due_today_fen"] == 30_000  # nothing due yet: the next instalment
    assert [(i["number"], i["status"], i["in_amount_due_today"]) for i in fine["instalments"]] == [
        (1, "due", True), (2, "due", False), (3, "due", False)]
    assert "第1期（缴款期限" in fine["quote_explanation"]

    # approved again: the changed plan applies
    changed = instalment_plan((first, 50_000), (second, 50_000), reason="调整分期")
    assert (await api.post(events, json=changed, headers=token)).status_code == 201
    assert [i["amount_fen"] for i in (await _fine(api, token, fw))["instalments"]] == [50_000, 50_000]
    # a later deferral replaces the plan; a plan after it replaces the deferral
    deferral = {"kind": "window_extended", "data": {
        "deadline": "payment", "new_last_day": (second + timedelta(days=1)).isoformat(),
        "reason": "改为暂缓"}}
    assert (await api.post(events, json=deferral, headers=token)).status_code == 201
    deferred = await _fine(api, token, fw)
    assert deferred["instalments"] is None
    assert deferred["effective_due_date"] == (second + timedelta(days=1)).isoformat()
    assert (await api.post(events, json=changed, headers=token)).status_code == 201
    assert (await _fine(api, token, fw))["effective_due_date"] == first.isoformat()


async def _payment_reminders(database: Database) -> dict[str, ReminderDeadline]:
    async with database.sessions() as db:
        rows = (await db.execute(select(ReminderDeadline)
                                 .where(ReminderDeadline.kind == "payment"))).scalars()
        return {row.facts["deadline_name"]: row for row in rows}


async def test_each_instalment_is_reminded_and_paying_it_silences_only_its_own_reminder(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # APL art. 66 with art. 72(1): each instalment has its own due date, after which its own
    # surcharge runs, so each is reminded before it falls due (driven by the agency's approval
    # through the API, ending at the outbox row); the payment of one silences its reminder
    # only; the instalments of a plan replaced by a deferral are reminded no more
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token)
    first, second, third = (today() + timedelta(days=n) for n in (5, 35, 65))
    plan = instalment_plan((first, 30_000), (second, 30_000), (third, 40_000))
    assert (await api.post(events, headers=token, json=plan)).status_code == 201
    registered = await _payment_reminders(database)
    assert {name: reminders.last_day(row.deadline_ends_at) for name, row in registered.items()} == {
        "缴纳罚款期限（第1期）": first, "缴纳罚款期限（第2期）": second, "缴纳罚款期限": third}

    async with database.sessions() as db:
        calendar = await load_calendar(db)
    at = registered["缴纳罚款期限（第1期）"].deadline_ends_at - timedelta(hours=2)
    job = ReminderJob(database.sessions, renderer_for(PUBLIC_URL), calendar, clock=lambda: at)
    assert await job.run_once() == 1
    async with database.sessions() as db:
        [sent] = (await db.execute(select(OutboxMessage).where(
            OutboxMessage.kind == Kind.DEADLINE_REMINDER.value))).scalars()
    assert sent.context["deadline_name"] == "缴纳罚款期限（第1期）"
    assert sent.context["deadline_date"] == first.isoformat()

    order = await place_order(app, database, fw)
    assert order.amount_fen == 30_000  # the first instalment, paid ahead of its due date
    body = notice_body(order, fw.payment_code, serial="SB-INSTALMENT-REMINDED")
    assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    acted = {name: row.acted_at is not None for name, row in (await _payment_reminders(database)).items()}
    assert acted == {"缴纳罚款期限（第1期）": True, "缴纳罚款期限（第2期）": False, "缴纳罚款期限": False}

    deferral = {"kind": "window_extended", "data": {
        "deadline": "payment", "new_last_day": (third + timedelta(days=10)).isoformat(),
        "reason": "改为暂缓"}}
    assert (await api.post(events, json=deferral, headers=token)).status_code == 201
    after = await _payment_reminders(database)
    assert after["缴纳罚款期限（第2期）"].acted_at is not None  # withdrawn: that instalment is gone
    assert after["缴纳罚款期限"].acted_at is None
    assert reminders.last_day(after["缴纳罚款期限"].deadline_ends_at) == third + timedelta(days=10)


async def test_plans_are_refused_with_stable_codes(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 66: only after a decision with a fine, adding up to it, dates increasing, not
    # in a closed case
    token = bearer(await fetch_token(api, agency_a))
    fw = await fine_world(database)
    events = f"/api/v1/cases/{fw.world.case_code}/events"
    soon, later = today() + timedelta(days=5), today() + timedelta(days=35)
    good = instalment_plan((soon, 40_000), (later, 60_000))
    before = await api.post(events, json=good, headers=token)
    assert before.status_code == 409 and before.json()["code"] == "decision_required"
    assert before.json()["title"] == "本案尚未作出处罚决定"

    await decide(api, token, events, 3)
    mismatch = await api.post(events, json=instalment_plan((soon, 40_000), (later, 50_000)), headers=token)
    assert mismatch.status_code == 422
    problem = mismatch.json()
    assert problem["code"] == "instalments_total_mismatch"
    assert problem["title"] == "各期金额之和应当等于处罚决定的罚款数额"
    assert (problem["fine_fen"], problem["instalments_total_fen"]) == (FINE_FEN, 90_000)
    backwards = await api.post(events, json=instalment_plan((later, 40_000), (soon, 60_000)), headers=token)
    assert backwards.status_code == 422
    assert backwards.json()["errors"] == {"instalments[1].due_date": "not_increasing"}
    one = await api.post(events, json=instalment_plan((soon, FINE_FEN)), headers=token)
    assert one.json()["errors"] == {"instalments": "out_of_range"}
    past = await api.post(events,
                          json=instalment_plan((today() - timedelta(days=1), 40_000), (later, 60_000)),
                          headers=token)
    assert past.status_code == 422 and past.json()["code"] == "instalment_before_approval"

    assert (await api.post(events, json={"kind": "closed"}, headers=token)).status_code == 201
    closed = await api.post(events, json=good, headers=token)
    assert closed.status_code == 409 and closed.json()["code"] == "case_closed"
    assert (await _fine(api, token, fw))["instalments"] is None  # nothing refused was recorded


async def test_surcharge_only_on_the_overdue_instalment_and_the_order_collects_what_is_due(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # APL art. 66 with art. 72(1): 3% a day of the overdue instalment only; the order asks for
    # what has fallen due (the overdue instalment with its surcharge), then the next one
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token, served_days_ago=30)
    overdue_since, next_due = today() - timedelta(days=10), today() + timedelta(days=20)
    plan = instalment_plan((overdue_since, 40_000), (next_due, 60_000))
    plan["data"]["occurred_at"] = days_ago(25)  # approved before the first instalment fell due
    assert (await api.post(events, json=plan, headers=token)).status_code == 201

    surcharge = 40_000 * 3 * 10 // 100
    fine = await _fine(api, token, fw)
    assert fine["state"] == "overdue" and fine["surcharge_today_fen"] == surcharge
    assert [(i["status"], i["surcharge_days"], i["surcharge_fen"], i["in_amount_due_today"])
            for i in fine["instalments"]] == [("overdue", 10, surcharge, True), ("due", 0, 0, False)]
    assert fine["amount_due_today_fen"] == 40_000 + surcharge

    order = await place_order(app, database, fw)
    assert order.amount_fen == 40_000 + surcharge
    body = notice_body(order, fw.payment_code, serial="SB-INSTALMENT-1")
    assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    fine = await _fine(api, token, fw)
    assert fine["state"] == "unpaid" and fine["effective_due_date"] == next_due.isoformat()
    assert [i["status"] for i in fine["instalments"]] == ["paid", "due"]
    assert fine["amount_due_today_fen"] == 60_000
    # what this payment settled, not the whole fine: the receipt's items follow it
    [paid] = fine["payments"]
    assert (paid["principal_fen"], paid["surcharge_fen"]) == (40_000, surcharge)
    assert await payment_jobs.JOBS.drain(payment_deps(app, database, notary=StubSeal())) == 1
    assert [r["total_fen"] for r in (await _fine(api, token, fw))["receipts"]] == [40_000 + surcharge]

    second = await place_order(app, database, fw)
    assert second.amount_fen == 60_000
    body = notice_body(second, fw.payment_code, serial="SB-INSTALMENT-2")
    assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    settled = await _fine(api, token, fw)
    assert settled["state"] == "paid" and [i["status"] for i in settled["instalments"]] == ["paid", "paid"]


async def test_the_party_sees_the_instalments_on_the_fine_and_case_pages(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 66: the party is told each instalment's due date, amount and status
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token, served_days_ago=30)
    overdue_since, next_due = today() - timedelta(days=2), today() + timedelta(days=28)
    plan = instalment_plan((overdue_since, 40_000), (next_due, 60_000))
    plan["data"]["occurred_at"] = days_ago(20)
    assert (await api.post(events, json=plan, headers=token)).status_code == 201
    await log_in(api, "zhangsan")

    page = (await api.get(f"/fines/{fw.fine_id}")).text
    table = page[page.index('<table class="instalments">'):page.index("</table>")]
    rows = [re.sub(r"<[^>]+>|\s+", "", row) for row in table.split("<tr>")[2:]]
    due = china_date(datetime.now(UTC)) + timedelta(days=28)
    assert rows[0].startswith(f"第1期{overdue_since.year}年{overdue_since.month}月{overdue_since.day}日24:00"
                              "400.00元24.00元（计2日）已逾期，本次应缴")
    assert rows[1] == f"第2期{due.year}年{due.month}月{due.day}日24:00600.00元0.00元待缴纳"
    assert "今日应缴金额：<strong>424.00 元</strong>" in page
    assert "经执法机关批准分期缴纳" in page

    listing = (await api.get("/fines")).text
    assert "分期缴纳，共 2 期" in listing
    case_page = (await api.get(f"/cases/{fw.world.case_code}")).text
    assert "执法机关已批准分期缴纳，共 2 期" in case_page
    assert "批准分期缴纳罚款" in case_page and "第2期" in case_page  # the timeline entry
    assert "尚未到期的最近一期为第2期" in case_page  # the case's dates; paid or not: the fine


async def test_a_late_payment_of_an_instalment_paid_meanwhile_is_flagged_for_refund(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # yesterday's order for the first instalment is paid late, after today's order paid it:
    # a second payment of what that order collected, as without a plan, not an advance
    token = bearer(await fetch_token(api, agency_a))
    fw, events = await decided_fine(database, api, token, served_days_ago=30)
    plan = instalment_plan((today() - timedelta(days=10), 40_000), (today() + timedelta(days=20), 60_000))
    plan["data"]["occurred_at"] = days_ago(25)
    assert (await api.post(events, json=plan, headers=token)).status_code == 201
    yesterday = datetime.now(UTC) - timedelta(days=1)
    stale = await place_order(app, database, fw, now=yesterday)
    fresh = await place_order(app, database, fw)
    assert (stale.amount_fen, fresh.amount_fen) == (40_000 + 40_000 * 3 * 9 // 100,
                                                    40_000 + 40_000 * 3 * 10 // 100)
    for order, serial, paid_at in ((fresh, "SB-TODAY", None), (stale, "SB-LATE", yesterday)):
        body = notice_body(order, fw.payment_code, serial=serial, paid_at=paid_at)
        assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    fine = await _fine(api, token, fw)
    assert [(p["platform_serial"], p["status"]) for p in fine["payments"]] == [
        ("SB-LATE", "refund_required"), ("SB-TODAY", "applied")]
    assert fine["refund_flags"] == 1 and fine["amount_due_today_fen"] == 60_000
