"""What a case's events set off for its parties: deadline reminders and the hearing notice.

Every deadline a party is shown (``services.cases.deadlines``, the one place deadlines come
from) is registered for a reminder (``services.reminders``) when it starts or moves, and is
marked acted when the party acts, so the reminder job finds real deadlines:

- ``record_event``: an agency's stage event (a prior notice starts the statement and hearing
  windows, a decision served the payment and remedy periods, an extension moves one); a
  hearing scheduled also notifies every party of its date, time and place (APL art. 64(2));
  a reconsideration or lawsuit started is the party acting on that remedy period;
- ``sync_case`` after a document served through the portal (its arrival starts the party's
  periods, FJ art. 19) and after a calendar load (a deadline counted on the fallback moves);
- ``mark_acted`` when the party states, requests a hearing, waives (both windows) or pays;
  ``mark_instalments_paid`` when a payment settles instalments of an approved plan.

Under an approved instalment plan (APL art. 66) every instalment has its own due date, after
which its own surcharge runs, so each is a deadline with its own reminder: the last one is the
payment deadline itself, the others are registered as ``case:<code>:<seq>:instalment:<n>``;
those of a plan the agency has replaced since are withdrawn.

Each registration is keyed by party, deadline kind and ``case:<code>:<seq>`` (the event that
started the period), so a renewed prior notice is a new deadline with its own reminder,
and acting on an old one does not silence the new one. Reminders go to the deadline's shown
last day (``ends_at_utc``): on the fallback that is the earlier, cautious date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import Kind, Renderer
from portal.cases.deadlines import CaseDeadline, DeadlineKind
from portal.cases.events import EventKind, StageEvent
from portal.cases.rules import EventWarning, event_warnings
from portal.database import database_now
from portal.legal_calendar import HolidayCalendar, end_of_china_day_utc
from portal.models.cases import Case
from portal.models.outbox import ReminderDeadline
from portal.services import cases, outbox, reminders
from portal.services.calendar import load_calendar

_REMEDY_ACTS = {EventKind.RECONSIDERATION_STARTED: DeadlineKind.RECONSIDERATION,
                EventKind.LAWSUIT_STARTED: DeadlineKind.LAWSUIT}
_NO_TIME = "（具体时间见听证通知书）"


@dataclass(frozen=True)
class RecordedEvent:
    """A stage event as recorded, with what the agency should know about it."""

    event: StageEvent
    warnings: tuple[EventWarning, ...]


def subject_ref(case: Case, deadline: CaseDeadline) -> str:
    return f"case:{case.code}:{deadline.trigger_seq}"


async def record_event(db: AsyncSession, case: Case, kind: str, data: Mapping[str, Any], actor: str,
                       *, renderer: Renderer) -> RecordedEvent:
    """Record an agency's stage event (``cases.add_stage_event``) and what follows from it,
    in the caller's transaction."""
    event = await cases.add_stage_event(db, case, kind, data, actor)
    calendar = await load_calendar(db)
    if event.kind is EventKind.HEARING_SCHEDULED:
        await _notify_hearing(db, case, event, renderer)
    if event.kind in _REMEDY_ACTS:
        for party in await cases.parties(db, case):
            await mark_acted(db, case, party.id, (_REMEDY_ACTS[event.kind],), at=event.at)
    await sync_case(db, case, renderer=renderer, now=event.recorded_at)
    return RecordedEvent(event, event_warnings(event, calendar=calendar))


async def sync_case(db: AsyncSession, case: Case, *, renderer: Renderer,
                    now: datetime | None = None) -> int:
    """Register (or move) every party's running deadlines of ``case``; returns how many."""
    events = await cases.case_events(db, case)
    if not events:  # no stage recorded yet: no period runs (a delivery to a new case)
        return 0
    now = now or await database_now(db)
    calendar = await load_calendar(db)
    agency_name = await cases.agency_name(db, case)
    registered = 0
    for party in await cases.parties(db, case):
        for deadline in await cases.deadlines(db, case, party.id, calendar, events):
            if not deadline.party or deadline.ends_at_utc <= now:
                continue
            facts = {"case_code": case.code, "agency_name": agency_name, "deadline_name": deadline.label}
            await reminders.register_deadline(
                db, party_id=party.id, kind=deadline.kind.value, subject_ref=subject_ref(case, deadline),
                ends_at=deadline.ends_at_utc, renderer=renderer, now=now, facts=facts)
            registered += 1
            if deadline.kind is DeadlineKind.PAYMENT:
                registered += await _register_instalments(db, case, party.id, deadline, facts,
                                                          renderer=renderer, now=now)
    return registered


def _instalments_ref(case: Case, deadline: CaseDeadline) -> str:
    """The subject prefix of a payment deadline's instalments; the n-th adds ``n``."""
    return f"{subject_ref(case, deadline)}:instalment:"


async def _register_instalments(db: AsyncSession, case: Case, party_id: int, deadline: CaseDeadline,
                                facts: Mapping[str, str], *, renderer: Renderer, now: datetime) -> int:
    """Each instalment but the last (the deadline's own) of the plan in force, and none of
    a plan replaced since; returns how many were registered."""
    prefix = _instalments_ref(case, deadline)
    instalments = deadline.plan.instalments[:-1] if deadline.plan else ()
    current = {f"{prefix}{n}": (n, end_of_china_day_utc(i.due_date)) for n, i in enumerate(instalments, 1)}
    registered = 0
    for ref, (number, ends_at) in current.items():
        if ends_at > now:
            name = f"{deadline.label}（第{number}期）"
            await reminders.register_deadline(
                db, party_id=party_id, kind=deadline.kind.value, subject_ref=ref, ends_at=ends_at,
                renderer=renderer, now=now, facts={**facts, "deadline_name": name})
            registered += 1
    await reminders.withdraw_others(db, party_id=party_id, kind=deadline.kind.value, under=prefix,
                                    keep=set(current), at=now)
    return registered


async def sync_open_cases(db: AsyncSession, *, renderer: Renderer) -> int:
    """Re-register the deadlines of every case with a reminder still to come: after a
    calendar load, a deadline counted on the fallback may have moved."""
    now = await database_now(db)
    refs = (await db.execute(select(ReminderDeadline.subject_ref).where(
        ReminderDeadline.acted_at.is_(None), ReminderDeadline.deadline_ends_at > now)
        .distinct())).scalars()
    codes = {ref.split(":")[1] for ref in refs if ref.startswith("case:")}
    synced = 0
    for code in sorted(codes):
        case = (await db.execute(select(Case).where(Case.code == code))).scalar_one_or_none()
        if case is not None:
            synced += await sync_case(db, case, renderer=renderer, now=now)
    return synced


async def _party_deadlines(db: AsyncSession, case: Case, party_id: int, calendar: HolidayCalendar | None,
                           events: list[StageEvent] | None) -> list[CaseDeadline]:
    """The party's deadlines, counted with the calendar and history the caller read already
    in this transaction (a payment callback has both), else read now."""
    if calendar is None:
        calendar = await load_calendar(db)
    return await cases.deadlines(db, case, party_id, calendar, events)


async def mark_acted(db: AsyncSession, case: Case, party_id: int, kinds: Iterable[DeadlineKind], *,
                     at: datetime, calendar: HolidayCalendar | None = None,
                     events: list[StageEvent] | None = None) -> int:
    """The party acted on its current deadlines of ``kinds``: no reminder for them any more."""
    wanted = set(kinds)
    marked = 0
    for deadline in await _party_deadlines(db, case, party_id, calendar, events):
        if deadline.kind in wanted:
            marked += await reminders.mark_acted(db, party_id=party_id, kind=deadline.kind.value,
                                                 subject_ref=subject_ref(case, deadline), at=at)
    return marked


async def mark_instalments_paid(db: AsyncSession, case: Case, party_id: int, numbers: Iterable[int], *,
                                at: datetime, calendar: HolidayCalendar | None = None,
                                events: list[StageEvent] | None = None) -> int:
    """A payment settled these instalments (numbered from 1) of the plan in force: no
    reminder for them any more. The last one is the payment deadline's own (``mark_acted``)."""
    marked = 0
    for deadline in await _party_deadlines(db, case, party_id, calendar, events):
        if deadline.kind is DeadlineKind.PAYMENT and deadline.plan:
            for number in numbers:
                ref = f"{_instalments_ref(case, deadline)}{number}"
                marked += await reminders.mark_acted(db, party_id=party_id, kind=deadline.kind.value,
                                                     subject_ref=ref, at=at)
    return marked


async def _notify_hearing(db: AsyncSession, case: Case, event: StageEvent, renderer: Renderer) -> None:
    """APL art. 64(2): every party is told the hearing's date, time and place."""
    hearing_date = event.day("hearing_date")
    if hearing_date is None:
        return
    context = {"agency_name": await cases.agency_name(db, case), "case_code": case.code,
               "hearing_date": hearing_date, "hearing_time": str(event.data.get("hearing_time") or _NO_TIME),
               "hearing_place": str(event.data.get("place", ""))}
    for party in await cases.parties(db, case):
        await outbox.enqueue(db, event_id=f"hearing:{case.code}:{event.seq}:{party.id}",
                             kind=Kind.HEARING_SCHEDULED, party_id=party.id, context=context,
                             renderer=renderer, now=event.recorded_at)
