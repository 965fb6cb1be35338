"""The demo cases ``make run`` seeds (portal.demo.cases): 张三 finds a deadline reminder in his
notices, and the company's decision names where to seek a remedy (APL art. 59(6)); both databases."""

from __future__ import annotations

from sqlalchemy import select

from notifications import Kind
from portal.cases.deadlines import DeadlineKind, PartyTimes, case_deadlines, find
from portal.database import transaction, utcnow
from portal.demo import cases as demo_cases
from portal.models.cases import Case
from portal.models.outbox import OutboxMessage
from portal.services import agencies, cases
from portal.services.calendar import load_calendar
from portal.settings import Settings
from tests.conftest import Database


async def test_the_demo_person_has_a_deadline_reminder_and_the_decision_names_its_remedies(
        database: Database, settings: Settings) -> None:
    async with transaction(database.sessions) as db:
        agency = await agencies.get_or_create_agency(db, "福州市市场监督管理局")
        codes = await demo_cases.seed_cases(db, agency.id)
        queued = await demo_cases.remind(db, settings, codes)
    assert queued == 2  # the statement and the hearing-request windows, two working days left
    async with database.sessions() as db:
        person_case, company_case = [(await db.execute(select(Case).where(Case.code == code))).scalar_one()
                                     for code in codes]
        [zhangsan] = await cases.parties(db, person_case)
        rows = list((await db.execute(select(OutboxMessage).where(
            OutboxMessage.kind == Kind.DEADLINE_REMINDER.value, OutboxMessage.channel == "inbox"))).scalars())
        events = await cases.case_events(db, company_case)
        calendar = await load_calendar(db)
    assert {row.party_id for row in rows} == {zhangsan.id}
    assert {row.context["deadline_name"] for row in rows} == {"陈述、申辩期限", "申请听证期限"}
    # APL art. 59(6): once served, the periods name the reconsideration body and the court
    served = case_deadlines(events, hearing_right=False, calendar=calendar,
                            times=PartyTimes(decision_served_at=utcnow()))
    reconsideration, lawsuit = find(served, DeadlineKind.RECONSIDERATION), find(served, DeadlineKind.LAWSUIT)
    assert reconsideration is not None and reconsideration.venue == "福州市人民政府"
    assert lawsuit is not None and lawsuit.venue == "福州市鼓楼区人民法院"
