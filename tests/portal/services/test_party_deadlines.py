"""Each party's deadlines run from when the portal served it (FJ art. 19: service is arrival),
else from the agency's ``informed_at`` / ``served_at``; the decision waits for the party served
last unless it waived (APL art. 45, 62, 64(1), 67, 85). Through the services, both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.applications import Starlette

from portal.cases.deadlines import CaseDeadline, DeadlineKind, find
from portal.cases.rights import SubmissionKind
from portal.database import transaction, utcnow
from portal.errors import Conflict
from portal.legal_calendar import Deadline, Trigger, china_date
from portal.models.cases import Case
from portal.services import cases, submissions
from portal.services.calendar import load_calendar
from tests.builders import deliver, sign_consent
from tests.conftest import Database
from tests.identities import COMPANY
from tests.portal.cases.factories import decide, notified_case

NOTICE_DOCUMENT, DECISION_DOCUMENT = "行政处罚事先告知书", "行政处罚决定书"


async def _two_parties(database: Database) -> tuple[Case, int, int]:
    """Informed (per the agency) twelve days ago: 张三's windows are over. The company is
    served the prior notice through the portal only now: its windows run from today."""
    case = await notified_case(database, "榕市监处罚〔2026〕401号", also=(COMPANY.party,),
                               informed=utcnow() - timedelta(days=12))
    async with database.sessions() as db:
        person, company = await cases.parties(db, case)
    return case, person.id, company.id


async def _deadline(database: Database, case: Case, party_id: int,
                    kind: DeadlineKind) -> CaseDeadline | None:
    async with database.sessions() as db:
        return find(await cases.deadlines(db, case, party_id, await load_calendar(db)), kind)


async def test_the_portal_service_starts_the_party_s_own_windows_and_the_decision_waits(
        app: Starlette, database: Database) -> None:
    case, person, company = await _two_parties(database)
    await sign_consent(database, company)
    await deliver(database, app.state.blobs, company, case.id, document_type=NOTICE_DOCUMENT)

    mine = await _deadline(database, case, person, DeadlineKind.STATEMENT)
    theirs = await _deadline(database, case, company, DeadlineKind.STATEMENT)
    assert mine is not None and mine.ends_at_utc < utcnow()  # the agency's informed_at
    assert theirs is not None and isinstance(theirs.computed, Deadline)  # a period, not a notice limit
    assert theirs.computed.trigger is Trigger.SERVED
    assert theirs.computed.start_date == china_date(utcnow()) and theirs.ends_at_utc > utcnow()

    async with transaction(database.sessions) as db:
        with pytest.raises(Conflict) as refused:
            await decide(db, case)  # the company's windows are still open (APL art. 45, 62)
        assert refused.value.code == "rights_window_open"
    async with transaction(database.sessions) as db:
        await submissions.submit(
            db, app.state.blobs, case=case, party_id=company, person_id=company, actor="party:test",
            new=submissions.NewSubmission(SubmissionKind.WAIVER, {"waived": ["statement"]}),
            calendar=await load_calendar(db))
    async with transaction(database.sessions) as db:
        await decide(db, case)  # the company waived; 张三's windows are over


async def test_payment_runs_from_the_decision_s_arrival_in_the_mailbox(
        app: Starlette, database: Database) -> None:
    # APL art. 67: 15 days from service; served through the portal, service is the arrival
    case = await notified_case(database, "榕市监处罚〔2026〕402号", informed=utcnow() - timedelta(days=12))
    async with transaction(database.sessions) as db:
        await decide(db, case)
        person = (await cases.parties(db, case))[0].id
    assert await _deadline(database, case, person, DeadlineKind.PAYMENT) is None  # not served yet
    await sign_consent(database, person)
    delivered = await deliver(database, app.state.blobs, person, case.id, title="榕市监罚字〔2026〕5号",
                              document_type=DECISION_DOCUMENT)
    payment = await _deadline(database, case, person, DeadlineKind.PAYMENT)
    assert payment is not None and isinstance(payment.computed, Deadline)
    assert payment.computed.start_at_utc == delivered.arrived_at
    assert payment.explain().startswith(f"送达于 {china_date(delivered.arrived_at).year}年")
