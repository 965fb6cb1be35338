"""The demo fines ``make run`` seeds (portal.demo.fines): 张三's third fine is paid by an
approved instalment plan (APL art. 66) that the fine follows; both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal import demo
from portal.database import transaction
from portal.demo import fines as demo_fines
from portal.legal_calendar import HolidayCalendar, china_date
from portal.models.payments import Fine
from portal.services import agencies, fine_views
from tests.conftest import Database


async def test_the_demo_has_a_fine_paid_by_approved_instalments(database: Database) -> None:
    async with transaction(database.sessions) as db:
        agency_ids = [(await agencies.get_or_create_agency(db, name)).id for name in demo.DEMO_AGENCIES]
        seeded = await demo_fines.seed_fines(db, agency_ids)
    assert len(seeded["fines"]) == len(seeded["cases"]) == 3
    today = china_date(datetime.now(UTC))
    async with database.sessions() as db:
        fine = (await db.execute(select(Fine).where(Fine.public_id == seeded["fines"][2]))).scalar_one()
        view = await fine_views.fine_view(db, fine, today)
    assert view.plan is not None and view.state == "unpaid"
    lines = [item.line for item in view.instalments]
    assert [line.principal_fen for line in lines] == [100_000] * 3
    assert lines[0].due_date == fine.due_date == view.effective_due_date
    assert all(HolidayCalendar.standard().is_working_day(line.due_date) for line in lines)
    assert view.quote.pay_now_fen == 100_000 and view.quote.surcharge_fen == 0  # the first one
