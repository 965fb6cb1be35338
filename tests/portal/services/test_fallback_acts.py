"""An act in a window counted on the fallback is accepted and flagged for the agency, and settled
once the year's arrangement is loaded (LAW.md "Counting days"; APL art. 64(1), 85)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from portal.blobstore.files import FileBlobStore
from portal.cases.events import parse_event_data
from portal.cases.rights import SubmissionKind
from portal.database import transaction
from portal.evidence_hash import instant_text
from portal.holiday_table import parse_calendar_file
from portal.legal_calendar import CHINA_TZ
from portal.models.cases import Case
from portal.models.rights import Submission
from portal.services import agencies, calendar, cases, evidence, submission_views, submissions
from tests.builders import new_case
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.cases.factories import NOTICE

NEW_YEAR_2027 = "year,date,kind,name\n" + "".join(f"2027,2027-01-0{d},holiday,元旦\n" for d in (1, 2, 3))


def china(month: int, day: int, year: int = 2027) -> datetime:
    return datetime(year, month, day, 10, tzinfo=CHINA_TZ)


async def _informed_28_december(database: Database, number: int) -> Case:
    """张三 informed on Monday 28 December 2026 (appended as the agency would have recorded it
    the next day: the order rules refuse instants ahead of the clock)."""
    async with transaction(database.sessions) as db:
        agency = (await agencies.get_or_create_agency(db, "福州市市场监督管理局")).id
        case = await cases.register_case(
            db, agency, new_case(f"榕市监处罚〔2026〕{number}号", ZHANGSAN.party))
        informed = china(12, 28, 2026)
        kind, payload = parse_event_data("penalty_notice", {
            **NOTICE, "occurred_at": instant_text(informed), "informed_at": instant_text(informed)},
            informed + timedelta(days=1))
        await evidence.append(db, chain=cases.chain_of(case), kind=kind.value, actor="agency:test",
                              payload=payload)
        return case


async def _request(database: Database, blobs: FileBlobStore, case: Case, at: datetime) -> Submission:
    async with transaction(database.sessions) as db:
        party = (await cases.parties(db, case))[0]
        return await submissions.submit(
            db, blobs, case=case, party_id=party.id, person_id=party.id, actor=f"party:{party.id}",
            new=submissions.NewSubmission(SubmissionKind.HEARING_REQUEST, {"reason": "", "agents": []}),
            calendar=await calendar.load_calendar(db), now=at)


async def _timeliness(database: Database, submission: Submission) -> object:
    async with database.sessions() as db:
        window = (await submission_views.view(db, submission)).to_json()["window"]
        assert isinstance(window, dict)
        return window["timeliness"]


async def test_a_request_after_the_estimated_day_is_accepted_flagged_and_settled(
        database: Database, data_dir: Path) -> None:
    # The fallback shows Tue 5 Jan 2027; a request on Wed 6 Jan is not refused (4-6 Jan may
    # be bridge days) but marked pending for the agency; loaded with only 1-3 Jan off, the
    # request of 6 Jan is late and one of 5 Jan in time
    blobs = FileBlobStore(data_dir / "blobs")
    late = await _request(database, blobs, await _informed_28_december(database, 301), china(1, 6))
    assert late.window_last_day is not None and late.window_last_day.isoformat() == "2027-01-05"
    assert await _timeliness(database, late) == "pending_arrangement"
    async with transaction(database.sessions) as db:
        await calendar.replace_years(db, parse_calendar_file(NEW_YEAR_2027))
    assert await _timeliness(database, late) == "late"
    in_time = await _request(database, blobs, await _informed_28_december(database, 302), china(1, 5))
    assert await _timeliness(database, in_time) == "in_time"
