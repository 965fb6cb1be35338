"""我的待办: gathers what needs the acting party's attention from the services that own it.

Nothing here decides anew: a fine's amount and date come from ``fine_views`` (what its page and
the pay button use), a right's window and whether it may still be used from
``submissions.overview`` (what the case page uses), a document's periods from ``mailbox``,
notices from ``notices``. So 待办 can never say something the task's own page contradicts.
The order is ``portal.todo.ordered``.

Answers are the agencies' acknowledgements of what the party filed, from the last
``ANSWERS_DAYS`` days (older ones stay on the case page).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases.rights import SubmissionKind
from portal.legal_calendar import HolidayCalendar, china_date
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.rights import Submission, SubmissionAcknowledgement
from portal.services import cases, fine_views, fines, mailbox, notices, submissions
from portal.todo import TodoItem, TodoKind, countdown, ordered

ANSWERS_DAYS = 14
NOTICES_SHOWN = 10
_RIGHTS = {SubmissionKind.STATEMENT: "statement", SubmissionKind.HEARING_REQUEST: "hearing-request"}
"""The rights with a running window that 待办 offers, and the slug of their form."""


async def todo(db: AsyncSession, party_id: int, now: datetime, calendar: HolidayCalendar) -> list[TodoItem]:
    """Everything the party has to do or read, most urgent first."""
    items = [*await _fines(db, party_id, now, calendar), *await _rights(db, party_id, now, calendar),
             *await _documents(db, party_id, now, calendar), *await _answers(db, party_id, now),
             *await _notices(db, party_id)]
    return ordered(items)


async def case_tasks(db: AsyncSession, party_id: int, case: Case, now: datetime,
                     calendar: HolidayCalendar) -> list[TodoItem]:
    """What the party has to do in one case (the top of its case page), most urgent first."""
    return ordered([*await _fines(db, party_id, now, calendar, case),
                    *await _rights(db, party_id, now, calendar, case),
                    *await _documents(db, party_id, now, calendar, case)])


async def _fines(db: AsyncSession, party_id: int, now: datetime, calendar: HolidayCalendar,
                 case: Case | None = None) -> list[TodoItem]:
    today = china_date(now)
    found = []
    for fine in await fines.fines_of_party(db, party_id):
        if case is not None and fine.case_id != case.id:
            continue
        view = await fine_views.fine_view(db, fine, today)
        if not view.payable:
            continue
        found.append(TodoItem(TodoKind.FINE, f"/fines/{fine.public_id}", fine.decision_number,
                              agency=view.agency_name,
                              due=countdown(view.effective_due_date, today, calendar),
                              amount_fen=view.quote.pay_now_fen,
                              detail="ahead" if view.paying_ahead else None))
    return found


async def _rights(db: AsyncSession, party_id: int, now: datetime, calendar: HolidayCalendar,
                  only: Case | None = None) -> list[TodoItem]:
    today = china_date(now)
    found = []
    for case in [only] if only is not None else await cases.cases_of_party(db, party_id):
        overview = await submissions.overview(db, case, party_id, calendar, now)
        if SubmissionKind.WAIVER in overview.state.filed:
            continue
        for kind, slug in _RIGHTS.items():
            window = overview.window(kind)
            if overview.refusals[kind] is not None or window is None or kind in overview.state.filed:
                continue
            found.append(TodoItem(TodoKind.RIGHT, f"/cases/{case.code}/{slug}", case.agency_case_number,
                                  agency=await cases.agency_name(db, case),
                                  due=countdown(window.last_day, today, calendar), detail=kind.value))
    return found


async def _documents(db: AsyncSession, party_id: int, now: datetime, calendar: HolidayCalendar,
                     case: Case | None = None) -> list[TodoItem]:
    today = china_date(now)
    found = []
    for item in await mailbox.items(db, party_id, case_code=case.code if case else None):
        if item.read_at is not None:
            continue
        running = [deadline.last_day for deadline in await mailbox.deadlines(db, item, party_id, calendar)
                   if deadline.last_day >= today]
        found.append(TodoItem(TodoKind.DOCUMENT, f"/mailbox/{item.delivery.public_id}",
                              item.delivery.title, agency=item.agency.name,
                              due=countdown(min(running), today, calendar) if running else None,
                              at=item.delivery.arrived_at, detail=item.delivery.document_type))
    return found


async def _answers(db: AsyncSession, party_id: int, now: datetime) -> list[TodoItem]:
    rows = (await db.execute(
        select(Submission, SubmissionAcknowledgement.acknowledged_at, Case.code, Agency.name)
        .join(SubmissionAcknowledgement, SubmissionAcknowledgement.submission_id == Submission.id)
        .join(Case, Case.id == Submission.case_id).join(Agency, Agency.id == Submission.agency_id)
        .where(Submission.party_id == party_id,
               SubmissionAcknowledgement.acknowledged_at >= now - timedelta(days=ANSWERS_DAYS))
    )).all()
    return [TodoItem(TodoKind.ANSWER, f"/cases/{code}/submissions/{submission.public_id}",
                     submission.public_id, agency=agency, at=acknowledged_at, detail=submission.kind)
            for submission, acknowledged_at, code, agency in rows]


async def _notices(db: AsyncSession, party_id: int) -> list[TodoItem]:
    shown = await notices.recent_notices(db, party_id, limit=NOTICES_SHOWN, unread_only=True)
    return [TodoItem(TodoKind.NOTICE, notice.link or "/notices", notice.title, at=notice.created_at,
                     notice_id=notice.id) for notice in shown]
