"""services.cases on both databases: parties found by identifier, unique codes, who may see
which case, the stage events in the evidence chain, and services.calendar."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import schema
from portal.cases import codes as case_codes
from portal.cases.intake import NewParty
from portal.database import create_engine, session_factory, transaction
from portal.errors import Conflict, NotFound, PortalError
from portal.holiday_table import CalendarDay, DayKind, parse_calendar_file, table_digest
from portal.models import Party
from portal.services import agencies, calendar, cases, evidence, identity
from tests.builders import TABLE_2027, new_case
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN


async def agency_id(database: Database, name: str = "福州市市场监督管理局") -> int:
    async with transaction(database.sessions) as db:
        return (await agencies.get_or_create_agency(db, name)).id


async def test_parties_are_found_by_identifier_and_agencies_do_not_rename_them(
        database: Database) -> None:
    agency = await agency_id(database)
    lower_x = replace(ZHANGSAN.party, id_number=ZHANGSAN.id_number.lower())
    async with transaction(database.sessions) as db:
        first = await cases.register_case(db, agency, new_case("1号", lower_x, COMPANY.party))
        typo = NewParty("person", "张叁", id_number=ZHANGSAN.id_number)  # the agency's spelling
        second = await cases.register_case(db, agency, new_case("2号", typo))
        login = await identity.record_login(db, "https://idp", {
            "sub": "s1", "name": "张三", "id_number": ZHANGSAN.id_number})
    async with database.sessions() as db:
        people = (await db.execute(select(Party).where(Party.kind == "person"))).scalars().all()
        assert [(p.name, p.id_number) for p in people] == [("张三", "35010219850312123X")]
        assert [c.id for c in await cases.cases_of_party(db, login.person.id)] == [second.id, first.id]


async def test_a_colliding_code_is_retried(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    agency = await agency_id(database)
    async with transaction(database.sessions) as db:
        taken = (await cases.register_case(db, agency, new_case("1号"))).code
    fresh = case_codes.new_code()
    codes: Iterator[str] = iter([taken, fresh])
    monkeypatch.setattr(case_codes, "new_code", lambda: next(codes))
    async with transaction(database.sessions) as db:
        assert (await cases.register_case(db, agency, new_case("2号"))).code == fresh


async def test_concurrent_registrations_of_one_case_number_make_one_case(database: Database) -> None:
    agency = await agency_id(database)

    async def attempt() -> str:
        try:
            async with transaction(database.sessions) as db:
                return (await cases.register_case(db, agency, new_case())).code
        except Conflict as refusal:
            return refusal.code

    results = await asyncio.gather(*(attempt() for _ in range(4)))
    codes = [result for result in results if result != "case_exists"]
    assert len(codes) == 1 and case_codes.normalise(codes[0]) == codes[0]


async def test_each_sees_only_its_own(database: Database) -> None:
    # SECURITY.md "Access control" (ASVS v5.0.0-8.2.2, 8.4.1): a foreign case is NotFound
    mine, theirs = await agency_id(database), await agency_id(database, "厦门市交通运输局")
    async with transaction(database.sessions) as db:
        case = await cases.register_case(db, mine, new_case("1号", COMPANY.party))
        stranger = await identity.find_or_create_party(db, "person", "王五", "350102197811037895",
                                                       rename=True)
    async with database.sessions() as db:
        assert (await cases.case_for_agency(db, mine, case_codes.display(case.code).lower())).id == case.id
        company = (await db.execute(select(Party).where(Party.kind == "organisation"))).scalar_one()
        assert (await cases.case_for_party(db, company.id, case.code)).id == case.id
        for call in (cases.case_for_agency(db, theirs, case.code),
                     cases.case_for_party(db, stranger.id, case.code),
                     cases.case_for_agency(db, mine, case.code[:-1] + "0" if case.code[-1] != "0"
                                           else case.code[:-1] + "1")):
            with pytest.raises(NotFound):
                await call


async def test_stage_events_go_to_the_case_chain_and_verify(database: Database) -> None:
    # GD art. 62(3): case history is append-only and tamper-evident
    agency = await agency_id(database)
    async with transaction(database.sessions) as db:
        case = await cases.register_case(db, agency, new_case())
        await cases.add_stage_event(db, case, "filed", {}, "agency:test")
    async with transaction(database.sessions) as db:
        with pytest.raises(PortalError):
            await cases.add_stage_event(db, case, "decided", {
                "decision_number": "1", "penalty": "罚款", "fine_fen": 1}, "agency:test")
    async with database.sessions() as db:
        entries = await cases.timeline(db, case)
        assert [entry.kind for entry in entries] == ["registered", "filed"]
        report = await evidence.verify_chains(db, f"case:{case.id}")
        assert report.ok and report.events == 2


async def test_calendar_load_replaces_the_years_it_covers(database: Database) -> None:
    # LAW.md "Counting days": the operator's table, updatable, one transaction per load
    async with database.sessions() as db:
        assert not (await calendar.load_calendar(db)).covers(2027)
    for _ in range(2):
        async with transaction(database.sessions) as db:
            summary = await calendar.replace_years(db, parse_calendar_file(TABLE_2027))
    assert summary.years == (2027,) and summary.holidays == {2027: 10}
    assert summary.workdays == {2027: 1} and summary.replaced == 11
    async with database.sessions() as db:
        loaded = await calendar.load_calendar(db)
        assert loaded.covers(2027) and not loaded.is_working_day(date(2027, 1, 1))
        assert loaded.is_working_day(date(2027, 2, 20))  # a 调休 Saturday
        assert not loaded.is_working_day(date(2026, 10, 1))  # the package still speaks for 2026
        rows = (await db.execute(select(func.count()).select_from(calendar.HolidayDay))).scalar_one()
        assert rows == 11


async def test_each_use_counts_with_the_table_in_force_in_its_own_database(
        database: Database, tmp_path: Path) -> None:
    # LAW.md "Counting days": a process keeps the calendars it built, by their content; a
    # load made elsewhere (another node) is in force at the next use, and another database's
    # table never stands in for this one's
    async with transaction(database.sessions) as db:
        await calendar.replace_years(db, parse_calendar_file(TABLE_2027))
    async with database.sessions() as db:
        assert not (await calendar.load_calendar(db)).is_working_day(date(2027, 2, 12))  # a Friday off
    corrected = TABLE_2027.replace("2027-02-12,holiday", "2027-02-13,holiday")  # moved to the Saturday
    async with transaction(database.sessions) as db:
        await calendar.replace_years(db, parse_calendar_file(corrected))
    async with database.sessions() as db:
        assert (await calendar.load_calendar(db)).is_working_day(date(2027, 2, 12))
        loads = (await db.execute(select(calendar.HolidayTableLoad.years)
                                  .order_by(calendar.HolidayTableLoad.id))).scalars().all()
        assert loads == ["2027", "2027"]  # each load recorded, none replaced
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        await schema.upgrade(other)
        async with session_factory(other)() as db:
            assert not (await calendar.load_calendar(db)).covers(2027)  # never loaded there
    finally:
        await other.dispose()


async def test_two_loads_at_once_leave_the_digest_of_the_table_they_left_together(
        database: Database) -> None:
    # Two operators (two nodes) load different years at the same moment: the load recorded
    # last must name the table both left, or a process could go on counting without one
    first_loaded = asyncio.Event()

    async def load(text: str, hold: bool) -> None:
        async with transaction(database.sessions) as db:
            await calendar.replace_years(db, parse_calendar_file(text))
            if hold:  # the other load gets a second to run its own before this one commits
                first_loaded.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.Event().wait(), 1.0)

    async def second() -> None:
        await first_loaded.wait()
        await load(TABLE_2027.replace("2027", "2028"), hold=False)

    await asyncio.gather(load(TABLE_2027, hold=True), second())
    async with database.sessions() as db:
        rows = (await db.execute(select(calendar.HolidayDay))).scalars().all()
        latest = (await db.execute(select(calendar.HolidayTableLoad.digest)
                                   .order_by(calendar.HolidayTableLoad.id.desc()))).scalars().first()
        assert latest == table_digest(CalendarDay(row.year, row.day, DayKind(row.kind), row.name)
                                      for row in rows)
        loaded = await calendar.load_calendar(db)
        assert loaded.covers(2027) and loaded.covers(2028)
