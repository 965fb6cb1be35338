"""What the portal itself recorded about a party in a case: the documents it served on the party
and the party's submissions. Their instants feed the party's deadlines and the decision rule;
their entries join the party's timeline.

Which delivery served which event (FJ art. 19: service is the arrival in the mailbox): the
prior notice of a penalty is served by the first 行政处罚事先告知书 that reached the party at or
after the notice was made (its ``occurred_at``, less the clock skew agencies are allowed), so a
renewed notice is matched with its own document and never with an older one; the decision
likewise by the first 行政处罚决定书 after it. Where the portal served no such document, the
agency's ``informed_at`` / ``served_at`` count (``cases.deadlines.PartyTimes``). A portal
service later than the agency's own record gives the party the longer period: the doubt is
resolved in the party's favour, and the agency sees the same dates through the API.

Only a party's own records are read for its timeline: a co-party's statements are not shown
to the other (they are the agency's to weigh, not to publish).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import catalogue
from portal.cases.deadlines import PartyTimes
from portal.cases.events import CLOCK_SKEW, Detail, EventKind, StageEvent, TimelineEntry, last
from portal.cases.rights import SubmissionKind
from portal.cases.rules import PartyStanding
from portal.models.cases import Case, CaseParty
from portal.models.eservice import Delivery
from portal.models.rights import ObjectionAnswer, Submission, SubmissionAcknowledgement
from portal.references import reference

NOTICE_DOCUMENT = "行政处罚事先告知书"
DECISION_DOCUMENT = "行政处罚决定书"
_SERVES = {NOTICE_DOCUMENT: EventKind.PENALTY_NOTICE, DECISION_DOCUMENT: EventKind.DECIDED}
"""Which stage event a document of each type serves on the party."""


def _served_since(events: Sequence[StageEvent]) -> dict[str, datetime]:
    """Per document type, the instant from which its arrival serves the matching event (the
    last prior notice, the last decision), less the clock skew agencies are allowed."""
    since = {}
    for document, kind in _SERVES.items():
        event = last(events, kind)
        if event is not None:
            since[document] = event.at - CLOCK_SKEW
    return since


def times_from(first: dict[str, datetime]) -> PartyTimes:
    """The party's service times, from its first serving arrival by document type."""
    return PartyTimes(notice_served_at=first.get(NOTICE_DOCUMENT),
                      decision_served_at=first.get(DECISION_DOCUMENT))


async def _first_arrivals(db: AsyncSession, case: Case, events: Sequence[StageEvent],
                          party_id: int | None = None) -> dict[int, dict[str, datetime]]:
    """Per party and document type, the first arrival that serves the matching event.

    The database picks the earliest one: a case the agency serves many documents in costs
    one row per party and type, not one per delivery; without a notice or a decision there
    is nothing to serve and nothing is read."""
    since = _served_since(events)
    if not since:
        return {}
    first = func.min(Delivery.arrived_at)
    query = select(Delivery.party_id, Delivery.document_type, first).where(
        Delivery.case_id == case.id,
        or_(*(and_(Delivery.document_type == document, Delivery.arrived_at >= at)
              for document, at in since.items())),
    ).group_by(Delivery.party_id, Delivery.document_type)
    if party_id is not None:
        query = query.where(Delivery.party_id == party_id)
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for row_party, document, arrived_at in (await db.execute(query)).all():
        found[row_party][document] = arrived_at
    return found


async def party_times(db: AsyncSession, case: Case, party_id: int,
                      events: Sequence[StageEvent]) -> PartyTimes:
    return times_from((await _first_arrivals(db, case, events, party_id)).get(party_id, {}))


async def filed_against_notice(db: AsyncSession, case: Case, party_id: int | None,
                               notice_seq: int | None) -> dict[int, frozenset[SubmissionKind]]:
    """Per party, the kinds of submission filed against the prior notice ``notice_seq``."""
    if notice_seq is None:
        return {}
    query = select(Submission.party_id, Submission.kind).where(
        Submission.case_id == case.id, Submission.notice_seq == notice_seq)
    if party_id is not None:
        query = query.where(Submission.party_id == party_id)
    filed: dict[int, set[SubmissionKind]] = defaultdict(set)
    for row in (await db.execute(query)).all():
        filed[row.party_id].add(SubmissionKind(row.kind))
    return {party: frozenset(kinds) for party, kinds in filed.items()}


async def standings(db: AsyncSession, case: Case,
                    events: Sequence[StageEvent]) -> list[PartyStanding]:
    """Every party of the case, as the decision rule sees it (``cases.rules.PartyStanding``)."""
    party_ids = list((await db.execute(select(CaseParty.party_id).where(
        CaseParty.case_id == case.id).order_by(CaseParty.id))).scalars())
    arrivals = await _first_arrivals(db, case, events)
    notice = last(events, EventKind.PENALTY_NOTICE)
    filed = await filed_against_notice(db, case, None, notice.seq if notice else None)
    return [PartyStanding(times=times_from(arrivals.get(party, {})),
                          waived=SubmissionKind.WAIVER in filed.get(party, frozenset()),
                          hearing_requested=SubmissionKind.HEARING_REQUEST in filed.get(party, frozenset()))
            for party in party_ids]


async def timeline_entries(db: AsyncSession, case: Case, party_id: int) -> list[TimelineEntry]:
    """The documents served on the party and its own submissions, as timeline entries."""
    entries = []
    deliveries = (await db.execute(select(Delivery).where(
        Delivery.case_id == case.id, Delivery.party_id == party_id))).scalars()
    for delivery in deliveries:
        entries.append(TimelineEntry(
            delivery.arrived_at, "delivery",
            catalogue.RIGHTS["timeline.delivery"].format(document_type=delivery.document_type),
            (Detail(catalogue.RIGHTS["timeline.document"], delivery.title),
             Detail(catalogue.CASES["field.served_at"], delivery.arrived_at, "instant")),
            source="delivery"))
    rows = (await db.execute(
        select(Submission, SubmissionAcknowledgement.acknowledged_at, ObjectionAnswer)
        .outerjoin(SubmissionAcknowledgement, SubmissionAcknowledgement.submission_id == Submission.id)
        .outerjoin(ObjectionAnswer, ObjectionAnswer.submission_id == Submission.id)
        .where(Submission.case_id == case.id, Submission.party_id == party_id))).all()
    for submission, acknowledged_at, answer in rows:
        details = [Detail(catalogue.RIGHTS["timeline.receipt_number"], reference(submission.public_id))]
        if acknowledged_at is not None:
            details.append(Detail(catalogue.RIGHTS["timeline.acknowledged"], acknowledged_at, "instant"))
        entries.append(TimelineEntry(
            submission.submitted_at, f"submission.{submission.kind}",
            catalogue.RIGHTS[f"timeline.{submission.kind}"], tuple(details), source="submission"))
        if answer is not None:
            entries.append(TimelineEntry(
                answer.answered_at, "objection_answered", catalogue.RIGHTS["timeline.objection_answered"],
                (Detail(catalogue.RIGHTS["timeline.receipt_number"], reference(submission.public_id)),
                 Detail(catalogue.RIGHTS["content.outcome"], catalogue.RIGHTS[f"outcome.{answer.outcome}"])),
                source="submission"))
    return entries
