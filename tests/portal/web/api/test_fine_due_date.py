"""A fine's due date is counted from its service whenever it is read, never frozen on a guess
(LAW.md "Counting days"; APL art. 67, 72, 85)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from portal.database import transaction
from portal.holiday_table import parse_calendar_file
from portal.legal_calendar import CHINA_TZ, china_date
from portal.models.payments import Fine, PaymentRecord
from portal.services import calendar, fine_views, fines
from portal.services.agencies import NewClient
from portal.settings import Settings
from portal.web.api import fine_json
from tests.builders import FineWorld, fine_world
from tests.conftest import Database
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import notice_body, place_order, post_callback, signed

# The 2027 arrangement as an operator would load it (illustrative: only 1-3 January matter).
NEW_YEAR_2027 = "year,date,kind,name\n" + "".join(
    f"2027,2027-01-0{day},holiday,元旦\n" for day in (1, 2, 3))


async def _served_17_december_stored_as_main_did(database: Database) -> FineWorld:
    """A fine for a decision served on Thursday 17 December 2026, its row as main stored it:
    due 1 January 2027, counted Monday to Friday before 2027 was loaded. (Made beside a fine
    of today: the service refuses a service date after today, and rows are never updated.)"""
    today = await fine_world(database, served_days_ago=0)
    async with transaction(database.sessions) as db:
        model = await db.get(Fine, today.fine_pk)
        assert model is not None
        fine = Fine(public_id=secrets.token_hex(16), agency_id=model.agency_id, case_id=model.case_id,
                    party_id=model.party_id, served_on=date(2026, 12, 17),
                    decision_number="榕市监罚〔2026〕1217号", amount_fen=100_000,
                    collecting_account=model.collecting_account, surcharge_applies=True,
                    payment_code=fines.new_payment_code(), due_date=date(2027, 1, 1),
                    due_explanation="送达于 2026年12月17日；……截止 2027年1月1日 24:00",
                    request_sha256="0" * 64, created_at=model.created_at, event_hash=model.event_hash)
        db.add(fine)
        await db.flush()
        return FineWorld(today.world, fine.public_id, fine.id, fine.payment_code)


async def _quote(database: Database, fw: FineWorld, on: date) -> int:
    async with database.sessions() as db:
        fine = await db.get(Fine, fw.fine_pk)
        assert fine is not None
        return (await fine_views.fine_view(db, fine, on)).quote.pay_now_fen


async def _load(database: Database, text: str) -> None:
    async with transaction(database.sessions) as db:
        await calendar.replace_years(db, parse_calendar_file(text))


async def test_load_then_pay_on_4_january_is_the_fine_alone(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # APL art. 67, 72, 85: served 17 Dec 2026 + 15 days = Fri 1 Jan 2027, 元旦;
    # with 1-3 January loaded as holidays the last day is Mon 4 Jan. A payment on 4 Jan owes
    # 100,000 fen, not 109,000 (three days' surcharge on the frozen due date of 1 Jan)
    fw = await _served_17_december_stored_as_main_did(database)
    await _load(database, NEW_YEAR_2027)
    paid_at = datetime(2027, 1, 4, 10, 0, tzinfo=CHINA_TZ).astimezone(UTC)
    app.state.clock = lambda: paid_at
    try:
        order = await place_order(app, database, fw, now=paid_at)
        assert order.amount_fen == 100_000
        body = notice_body(order, fw.payment_code, paid_at=paid_at)
        answer = await post_callback(api, body, signed(settings, body, at=paid_at))
    finally:
        app.state.clock = None
    assert answer.status_code == 200
    async with database.sessions() as db:
        record = (await db.execute(select(PaymentRecord).where(
            PaymentRecord.fine_id == fw.fine_pk))).scalar_one()
        fine = await db.get(Fine, fw.fine_pk)
        assert fine is not None
        view = await fine_views.fine_view(db, fine, china_date(paid_at))
    assert (record.applied, record.amount_fen, record.surcharge_fen) == (True, 100_000, 0)
    assert view.state == "paid" and view.due.last_day == date(2027, 1, 4)
    assert view.fallback_warning is None


async def test_no_surcharge_day_is_charged_on_the_fallback_alone(database: Database) -> None:
    # LAW.md "Counting days": 2027 not loaded, the fallback shows Mon 4 Jan (1 Jan is 元旦),
    # but 4-6 Jan may yet be bridge days: nothing is surcharged before 7 Jan. Once the year
    # is loaded without them, the surcharge counts from 5 Jan, on every read
    fw = await _served_17_december_stored_as_main_did(database)
    assert await _quote(database, fw, date(2027, 1, 4)) == 100_000
    assert await _quote(database, fw, date(2027, 1, 6)) == 100_000
    assert await _quote(database, fw, date(2027, 1, 7)) == 100_000
    assert await _quote(database, fw, date(2027, 1, 8)) == 103_000
    async with database.sessions() as db:
        fine = await db.get(Fine, fw.fine_pk)
        assert fine is not None
        view = await fine_views.fine_view(db, fine, date(2027, 1, 6))
    assert view.due.last_day == date(2027, 1, 4) and view.fallback_warning is not None
    await _load(database, NEW_YEAR_2027)
    assert await _quote(database, fw, date(2027, 1, 4)) == 100_000
    assert await _quote(database, fw, date(2027, 1, 6)) == 106_000


async def test_the_fallback_is_said_wherever_the_due_date_is_shown_and_rounding_is_explained(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # LAW.md "Counting days": a due date counted on the fallback says so on the fines list,
    # the fine's page, the case's fine section and in the API; LAW.md "Money is exact": the
    # page says the surcharge is rounded down once over the period
    fw = await _served_17_december_stored_as_main_did(database)
    await log_in(api, "zhangsan")
    warning = "2027年放假调休安排尚未公布"
    assert warning in (await api.get("/fines")).text
    page = (await api.get(f"/fines/{fw.fine_id}")).text
    assert warning in page and "缴款期限为估算" in page
    assert '<time datetime="2027-01-07">2027年1月7日</time>（含）之前不加处罚款' in page
    assert "一次性舍去不足一分的部分（向下取整到分），不按日分别取整" in page
    assert warning in (await api.get(f"/cases/{fw.world.case_code}")).text
    async with database.sessions() as db:
        fine = await db.get(Fine, fw.fine_pk)
        assert fine is not None
        view = await fine_views.fine_view(db, fine, date(2026, 12, 20))
    body = fine_json.fine(view, "https://portal.example")
    assert (body["due_date"], body["due_date_on_fallback"], body["surcharge_from_after"]) == (
        "2027-01-04", True, "2027-01-07")
    later = fine_views.quote_for(view.fine_terms, date(2027, 1, 8), [])
    assert "放假调休安排公布前（2027年1月5日至2027年1月7日）不计" in later.explanation
    assert body["fallback_years"] == [2027] and warning in body["fallback_warning"]
