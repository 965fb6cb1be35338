"""Cases: registering them, finding them for whoever may see them, and their stage events.

Who sees a case is decided here, in the queries (SECURITY.md, "Access control"): an agency
only its own (``case_for_agency``), a party only the cases it is a party to
(``case_for_party``); anything else is ``NotFound``, exactly like a code that never existed,
so existence does not leak (ASVS v5.0.0-8.2.2, 8.4.1). The public (``public_status``) gets a
projection with no names, amounts, matter or personal data (FJ art. 8, 29; v5.0.0-15.3.1).

What happens in a case is appended to its evidence chain ``case:<id>``, never stored in
columns: ``add_stage_event`` locks the chain, reads the history, checks the new event against
it (``portal.cases.rules``) and appends it, all in the caller's transaction, so two agencies'
clerks cannot interleave two steps that exclude each other. The decision and the extension
of a window are checked against every party's standing (when the portal served it, whether it
waived its windows or asked for a hearing: ``services.case_records``). Services flush, never
commit.

A party's deadlines run from when that party was served through the portal, where it was
(``deadlines``); its timeline merges the case's events with the documents served on it and its
own submissions (``party_view``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases import codes as case_codes
from portal.cases.deadlines import CaseDeadline, DeadlineKind, case_deadlines, unreadable_deadlines
from portal.cases.events import (
    EventKind,
    Milestone,
    StageEvent,
    TimelineEntry,
    current_stage,
    last,
    parse_event_data,
    public_milestones,
    stage_label,
    timeline_entries,
)
from portal.cases.intake import NewCase, NewParty, Officer, checked
from portal.cases.rules import PartyStanding, check_event
from portal.database import database_now
from portal.errors import Conflict, NotFound
from portal.evidence_hash import instant_text
from portal.legal_calendar import HolidayCalendar
from portal.models.agencies import Agency
from portal.models.cases import Case, CaseOfficer, CaseParty
from portal.models.evidence import EvidenceEvent
from portal.models.parties import Party
from portal.services import case_records, evidence
from portal.services.calendar import load_calendar
from portal.services.identity import find_or_create_party

__all__ = [
    "CaseSummary", "NewCase", "NewParty", "Officer", "PartyView", "PublicStatus",
    "add_stage_event", "case_events", "case_for_agency", "case_for_party", "case_summaries",
    "cases_of_party", "deadlines", "party_in_case", "party_view", "public_status",
    "register_case", "timeline",
]

_CODE_ATTEMPTS = 5


def chain_of(case: Case) -> str:
    return f"case:{case.id}"


async def register_case(db: AsyncSession, agency_id: int, data: NewCase) -> Case:
    """Register ``data`` for the agency: its parties (found or created by identifier), its
    officers, a fresh case code, and the ``registered`` event. ``ValidationFailed`` for bad
    data, ``Conflict`` ``case_exists`` if the agency already registered this case number."""
    data = checked(data)
    if await _case_number_taken(db, agency_id, data.agency_case_number):
        raise Conflict(code="case_exists")
    now = await database_now(db)
    case = await _insert_case(db, agency_id, data, now)
    party_ids = []
    for new_party in data.parties:
        party = await find_or_create_party(db, new_party.kind, new_party.name,
                                           new_party.identifier, rename=False)
        db.add(CaseParty(case_id=case.id, party_id=party.id, added_at=now))
        party_ids.append(party.id)
    for officer in data.officers:
        db.add(CaseOfficer(case_id=case.id, name=officer.name,
                           credential_number=officer.credential_number, added_at=now))
    await db.flush()
    await evidence.append(db, chain=chain_of(case), kind=EventKind.REGISTERED.value,
                          actor=f"agency:{agency_id}", occurred_at=now, payload={
                              "occurred_at": instant_text(now),
                              "code": case.code,
                              "agency_id": agency_id,
                              "agency_case_number": data.agency_case_number,
                              "case_type": data.case_type,
                              "matter": data.matter,
                              "hearing_right": data.hearing_right,
                              "electronic_monitoring": data.electronic_monitoring,
                              "party_ids": party_ids,
                              "officers": [[o.name, o.credential_number] for o in data.officers],
                          })
    return case


async def _case_number_taken(db: AsyncSession, agency_id: int, number: str) -> bool:
    return (await db.execute(select(Case.id).where(
        Case.agency_id == agency_id, Case.agency_case_number == number))).first() is not None


async def _insert_case(db: AsyncSession, agency_id: int, data: NewCase, now: datetime) -> Case:
    """Insert the case under a fresh code, retrying on the (60-bit, so rare) code collision;
    a concurrent registration of the same case number is ``case_exists``."""
    for _ in range(_CODE_ATTEMPTS):
        case = Case(code=case_codes.new_code(), agency_id=agency_id,
                    agency_case_number=data.agency_case_number, case_type=data.case_type,
                    matter=data.matter, hearing_right=data.hearing_right,
                    electronic_monitoring=data.electronic_monitoring, registered_at=now)
        try:
            async with db.begin_nested():
                db.add(case)
                await db.flush()
        except IntegrityError:
            if await _case_number_taken(db, agency_id, data.agency_case_number):
                raise Conflict(code="case_exists") from None
            continue
        return case
    raise RuntimeError("no free case code after several attempts: is the generator broken?")


async def _by_code(db: AsyncSession, code: str) -> Case | None:
    """The case with the code a person or a system typed, or None; a code whose check
    character fails is None without a query."""
    canonical = case_codes.normalise(code)
    if canonical is None:
        return None
    return (await db.execute(select(Case).where(Case.code == canonical))).scalar_one_or_none()


async def case_for_agency(db: AsyncSession, agency_id: int, code: str) -> Case:
    case = await _by_code(db, code)
    if case is None or case.agency_id != agency_id:
        raise NotFound()
    return case


async def party_in_case(db: AsyncSession, case_id: int, party_id: int) -> bool:
    return (await db.execute(select(CaseParty.id).where(
        CaseParty.case_id == case_id, CaseParty.party_id == party_id))).first() is not None


async def cases_of_party(db: AsyncSession, party_id: int) -> list[Case]:
    """The party's cases, newest first."""
    return list((await db.execute(
        select(Case).join(CaseParty, CaseParty.case_id == Case.id)
        .where(CaseParty.party_id == party_id)
        .order_by(Case.registered_at.desc(), Case.id.desc())
    )).scalars())


async def case_for_party(db: AsyncSession, party_id: int, code: str) -> Case:
    case = await _by_code(db, code)
    if case is None or not await party_in_case(db, case.id, party_id):
        raise NotFound()
    return case


_STAGE_EVENTS = (select(EvidenceEvent)
                 .where(EvidenceEvent.chain == bindparam("chain"),
                        EvidenceEvent.kind.in_([k.value for k in EventKind]))
                 .order_by(EvidenceEvent.seq))
"""Built once: with its list of kinds, building it took as long as running it (every case
page and payment callback reads a case's history)."""


async def case_events(db: AsyncSession, case: Case) -> list[StageEvent]:
    """The case's stage events in order; other kinds a later feature appends to the chain are
    not stages and are left to their own readers."""
    rows = (await db.execute(_STAGE_EVENTS, {"chain": chain_of(case)})).scalars()
    return [StageEvent.from_payload(row.seq, row.kind, row.occurred_at, json.loads(row.payload),
                                    row.actor) for row in rows]


async def add_stage_event(db: AsyncSession, case: Case, kind: str, data: Mapping[str, Any],
                          actor: str) -> StageEvent:
    """Record a stage event (see ``portal.cases.events.SPECS`` for each kind's data) after
    checking it against the case's history, with the operator's holiday calendar."""
    chain = chain_of(case)
    await evidence.lock(db, chain)
    now = await database_now(db)
    event_kind, payload = parse_event_data(kind, data, now)
    history = await case_events(db, case)
    next_seq = (history[-1].seq if history else 0) + 1  # only compared with earlier seqs
    candidate = StageEvent.from_payload(next_seq, event_kind.value, now, payload, actor)
    standings: list[PartyStanding] = []
    if event_kind in (EventKind.DECIDED, EventKind.WINDOW_EXTENDED):
        standings = await case_records.standings(db, case, history)
    check_event(candidate, history, hearing_right=case.hearing_right,
                calendar=await load_calendar(db), parties=standings)
    row = await evidence.append(db, chain=chain, kind=event_kind.value, actor=actor,
                                payload=payload, occurred_at=now)
    return StageEvent.from_payload(row.seq, row.kind, row.occurred_at, payload, actor)


async def timeline(db: AsyncSession, case: Case) -> list[TimelineEntry]:
    """The case's moments, oldest first (by when they happened, then as recorded)."""
    return _in_order(await case_events(db, case))


def _in_order(events: list[StageEvent], *more: TimelineEntry) -> list[TimelineEntry]:
    # sorted() is stable: the recording order breaks ties between equal instants
    return sorted([*timeline_entries(events), *more], key=lambda entry: entry.at)


async def deadlines(db: AsyncSession, case: Case, party_id: int, calendar: HolidayCalendar,
                    events: list[StageEvent] | None = None) -> list[CaseDeadline]:
    """Every deadline running in the case for ``party_id`` (see ``portal.cases.deadlines``),
    counted from when the portal served that party where it did (``case_records``)."""
    if events is None:
        events = await case_events(db, case)
    return case_deadlines(events, hearing_right=case.hearing_right, calendar=calendar,
                          times=await case_records.party_times(db, case, party_id, events))


async def unreadable(db: AsyncSession, case: Case, party_id: int, calendar: HolidayCalendar,
                     events: list[StageEvent] | None = None) -> tuple[DeadlineKind, ...]:
    """The party's deadlines ``deadlines`` leaves out: counted from a stored date beyond any
    calendar (``cases.deadlines.unreadable_deadlines``); pages and the API name them."""
    if events is None:
        events = await case_events(db, case)
    return unreadable_deadlines(events, hearing_right=case.hearing_right, calendar=calendar,
                                times=await case_records.party_times(db, case, party_id, events))


async def officers(db: AsyncSession, case: Case) -> list[CaseOfficer]:
    return list((await db.execute(select(CaseOfficer).where(CaseOfficer.case_id == case.id)
                                  .order_by(CaseOfficer.id))).scalars())


async def parties(db: AsyncSession, case: Case) -> list[Party]:
    return list((await db.execute(
        select(Party).join(CaseParty, CaseParty.party_id == Party.id)
        .where(CaseParty.case_id == case.id).order_by(CaseParty.id))).scalars())


async def agency_name(db: AsyncSession, case: Case) -> str:
    """The case's agency's name; no query when the session holds the agency already (a
    delivery loads it before it locks the party's chain, and asks again under that lock)."""
    agency = await db.get(Agency, case.agency_id)
    if agency is None:
        raise RuntimeError(f"case {case.id!r}: its agency is missing")
    return agency.name


@dataclass(frozen=True)
class PublicStatus:
    """What anyone holding a case code may see: no names, amounts, matter or personal data."""

    display_code: str
    agency_name: str
    case_type: str
    stage: EventKind
    milestones: tuple[Milestone, ...]

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)


async def public_status(db: AsyncSession, code: str) -> tuple[Case, PublicStatus]:
    """The case and its public projection; ``NotFound`` for a code that is unknown, mistyped
    or fails its check character, all alike."""
    case = await _by_code(db, code)
    if case is None:
        raise NotFound()
    events = await case_events(db, case)
    return case, PublicStatus(case_codes.display(case.code), await agency_name(db, case),
                              case.case_type, current_stage(events), public_milestones(events))


@dataclass(frozen=True)
class CaseSummary:
    """One line of a party's case list."""

    code: str
    display_code: str
    agency_name: str
    agency_case_number: str
    case_type: str
    stage: EventKind
    registered_at: datetime

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)


async def case_summaries(db: AsyncSession, party_id: int) -> list[CaseSummary]:
    summaries = []
    for case in await cases_of_party(db, party_id):
        stage = current_stage(await case_events(db, case))
        summaries.append(CaseSummary(case.code, case_codes.display(case.code),
                                     await agency_name(db, case), case.agency_case_number,
                                     case.case_type, stage, case.registered_at))
    return summaries


@dataclass(frozen=True)
class PartyView:
    """Everything a party of the case sees on its page (FJ art. 29: the full case)."""

    case: Case
    display_code: str
    agency_name: str
    stage: EventKind
    officers: tuple[CaseOfficer, ...]
    notice: StageEvent | None
    hearing: StageEvent | None
    timeline: tuple[TimelineEntry, ...]
    deadlines: tuple[CaseDeadline, ...]
    unreadable: tuple[DeadlineKind, ...] = ()
    """Deadlines that could not be counted from the case's stored dates (shown as such)."""

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)

    @property
    def fallback_years(self) -> tuple[int, ...]:
        """Years some deadline was counted for by weekday only (no holiday data)."""
        return tuple(sorted({year for d in self.deadlines for year in d.fallback_years}))


async def party_view(db: AsyncSession, party_id: int, code: str,
                     calendar: HolidayCalendar) -> PartyView:
    """The acting party's view of its case; ``NotFound`` for any case it is not a party to."""
    case = await case_for_party(db, party_id, code)
    events = await case_events(db, case)
    return PartyView(
        case=case,
        display_code=case_codes.display(case.code),
        agency_name=await agency_name(db, case),
        stage=current_stage(events),
        officers=tuple(await officers(db, case)),
        notice=last(events, EventKind.PENALTY_NOTICE),
        hearing=last(events, EventKind.HEARING_SCHEDULED),
        timeline=tuple(_in_order(events, *await case_records.timeline_entries(db, case, party_id))),
        deadlines=tuple(await deadlines(db, case, party_id, calendar, events)),
        unreadable=await unreadable(db, case, party_id, calendar, events),
    )
