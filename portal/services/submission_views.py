"""What a submission looks like to the agency, the webhook, the receipt and the party's pages:
one value object gathered by one query, so they all state the same facts.

An act made in a window counted on the fallback (the year's holiday arrangement not loaded) is
never refused as late before the latest day an arrangement could give (LAW.md "Counting
days"): the agency sees its ``window.timeliness`` -- ``pending_arrangement`` while the window
is still an estimate, then, once the year is loaded, ``in_time`` or ``late`` by the
arrangement, recomputed on every read.

The agency's reads are filtered by the agency (``for_agency``, ``agency_list``): another
agency's submission is 404 like a missing one (SECURITY.md, 8.4.1). The agency sees the party
in full (it is the agency's case, or its published item); an objection carries what it is
about (``subject``) and, once given, the agency's answer; the list answers the oldest first so that an agency
working through it with ``after`` misses nothing that arrives meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.attachments import internal_name
from portal.cases import codes as case_codes
from portal.cases.rights import SubmissionKind
from portal.database import get_existing
from portal.errors import NotFound
from portal.evidence_hash import instant_text
from portal.legal_calendar import china_date
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.models.publicity import Publication
from portal.models.rights import (
    ObjectionAnswer,
    Submission,
    SubmissionAcknowledgement,
    SubmissionAttachment,
    SubmissionReceipt,
)
from portal.services import cases
from portal.services.calendar import load_calendar

MAX_PAGE = 100
STATUSES = ("new", "acknowledged", "all")


@dataclass(frozen=True)
class PublicationRef:
    """The published item an objection is about, as the agency numbers it."""

    id: int
    kind: str
    agency_case_number: str


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    case: Case | None
    agency: Agency
    party: Party
    submitter: Party
    attachments: tuple[SubmissionAttachment, ...]
    receipt: SubmissionReceipt | None
    acknowledgement: SubmissionAcknowledgement | None
    delivery: Delivery | None = None
    publication: PublicationRef | None = None
    answer: ObjectionAnswer | None = None
    timeliness: str | None = None
    """``in_time`` | ``late`` | ``pending_arrangement`` for an act in a window (see above)."""

    @property
    def acts_for_other(self) -> bool:
        return self.submitter.id != self.party.id

    @property
    def agency_case_number(self) -> str:
        if self.case is not None:
            return self.case.agency_case_number
        return self.publication.agency_case_number if self.publication else ""

    @property
    def reference(self) -> str:
        """How files and pages name where it was filed: the case code, else the published item."""
        if self.case is not None:
            return case_codes.display(self.case.code)
        return f"公示{self.submission.publication_id}"

    def subject_json(self) -> dict[str, Any] | None:
        """What an objection is about (None for the other kinds)."""
        if self.submission.kind != SubmissionKind.OBJECTION:
            return None
        s = self.submission
        return {"kind": "publication" if s.publication_id else "delivery" if s.delivery_id else "case",
                "delivery_id": self.delivery.public_id if self.delivery else None,
                "document_title": self.delivery.title if self.delivery else None,
                "publication_id": s.publication_id, "publication_version": s.publication_version}

    def answer_json(self) -> dict[str, Any] | None:
        return answer_json(self.answer) if self.answer is not None else None

    def attachment(self, position: int) -> SubmissionAttachment:
        found = next((a for a in self.attachments if a.position == position), None)
        if found is None:
            raise NotFound()
        return found

    def to_json(self) -> dict[str, Any]:
        """The submission as the API and the webhook give it."""
        s, p = self.submission, self.party
        url = f"/api/v1/submissions/{s.public_id}"
        return {
            "submission_id": s.public_id,
            "kind": s.kind,
            "case_code": self.case.code if self.case else None,
            "agency_case_number": self.agency_case_number,
            "party": {"kind": p.kind, "name": p.name,
                      **({"id_number": p.id_number} if p.id_number else {"credit_code": p.credit_code})},
            "submitted_by": {"name": self.submitter.name, "on_behalf": self.acts_for_other},
            "submitted_at": instant_text(s.submitted_at),
            "notice_seq": s.notice_seq,
            "window": {"kind": s.window_kind, "last_day": s.window_last_day.isoformat(),
                       "timeliness": self.timeliness}
            if s.window_kind and s.window_last_day else None,
            "content": s.content,
            "content_sha256": s.content_sha256,
            "event_hash": s.event_hash,
            "attachments": [{"position": a.position, "name": internal_name(a.position, a.media_type),
                             "media_type": a.media_type, "size": a.size, "sha256": a.document_sha256,
                             "url": f"{url}/attachments/{a.position}"} for a in self.attachments],
            "receipt": {"status": "issued" if self.receipt else "pending", "url": f"{url}/receipt"},
            "acknowledged_at": instant_text(self.acknowledgement.acknowledged_at)
            if self.acknowledgement else None,
            "subject": self.subject_json(),
            "answer": self.answer_json(),
        }


def answer_json(answer: ObjectionAnswer) -> dict[str, Any]:
    """An objection's answer as the API, the webhook and the answer endpoint give it."""
    return {"outcome": answer.outcome, "text": answer.text,
            "answered_at": instant_text(answer.answered_at),
            "corrected_version": answer.corrected_version}


async def view(db: AsyncSession, submission: Submission) -> SubmissionView:
    case = await db.get(Case, submission.case_id) if submission.case_id is not None else None
    agency = await get_existing(db, Agency, submission.agency_id)
    party = await get_existing(db, Party, submission.party_id)
    submitter = await get_existing(db, Party, submission.submitted_by_person_id)
    attachments = tuple((await db.execute(select(SubmissionAttachment).where(
        SubmissionAttachment.submission_id == submission.id)
        .order_by(SubmissionAttachment.position))).scalars())
    receipt = (await db.execute(select(SubmissionReceipt).where(
        SubmissionReceipt.submission_id == submission.id))).scalar_one_or_none()
    acknowledgement = (await db.execute(select(SubmissionAcknowledgement).where(
        SubmissionAcknowledgement.submission_id == submission.id))).scalar_one_or_none()
    delivery = await db.get(Delivery, submission.delivery_id) if submission.delivery_id else None
    publication = None
    if submission.publication_id is not None:
        row = (await db.execute(select(Publication.id, Publication.kind, Publication.agency_case_number)
                                .where(Publication.id == submission.publication_id))).one()
        publication = PublicationRef(row.id, row.kind, row.agency_case_number)
    answer = (await db.execute(select(ObjectionAnswer).where(
        ObjectionAnswer.submission_id == submission.id))).scalar_one_or_none()
    return SubmissionView(submission, case, agency, party, submitter, attachments, receipt,
                          acknowledgement, delivery, publication, answer,
                          await _timeliness(db, case, submission))


async def _timeliness(db: AsyncSession, case: Case | None, submission: Submission) -> str | None:
    """Whether the act was in time by the party's window as it is counted now (see above)."""
    if case is None or not (submission.window_kind and submission.window_last_day):
        return None
    current = next((deadline for deadline in await cases.deadlines(
        db, case, submission.party_id, await load_calendar(db))
        if deadline.kind.value == submission.window_kind and deadline.trigger_seq == submission.notice_seq),
        None)
    if current is None:  # the notice was renewed since: the window as it stood then
        in_time = china_date(submission.submitted_at) <= submission.window_last_day
        return "in_time" if in_time else "late"
    if current.uncertain:
        return "pending_arrangement"
    return "in_time" if current.is_met_by(submission.submitted_at) else "late"


async def for_agency(db: AsyncSession, agency_id: int, public_id: str) -> Submission:
    submission = (await db.execute(select(Submission).where(
        Submission.public_id == public_id, Submission.agency_id == agency_id))).scalar_one_or_none()
    if submission is None:
        raise NotFound()
    return submission


@dataclass(frozen=True)
class Filters:
    """The agency's list filters, already checked by the API."""

    status: str = "new"
    case_code: str | None = None
    kind: str | None = None
    since: datetime | None = None
    after: str | None = None
    limit: int = 50


async def agency_list(db: AsyncSession, agency_id: int, filters: Filters) -> list[SubmissionView]:
    """The agency's submissions matching ``filters``, oldest first; ``after`` continues a list
    after that submission (an unknown or foreign id starts from nothing: empty page)."""
    query = select(Submission).where(Submission.agency_id == agency_id)
    acknowledged = select(SubmissionAcknowledgement.submission_id)
    if filters.status == "new":
        query = query.where(Submission.id.not_in(acknowledged))
    elif filters.status == "acknowledged":
        query = query.where(Submission.id.in_(acknowledged))
    if filters.case_code is not None:
        code = case_codes.normalise(filters.case_code)
        query = query.join(Case, Case.id == Submission.case_id).where(Case.code == (code or ""))
    if filters.kind is not None:
        query = query.where(Submission.kind == filters.kind)
    if filters.since is not None:
        query = query.where(Submission.submitted_at >= filters.since)
    if filters.after is not None:
        start = (await db.execute(select(Submission.id).where(
            Submission.public_id == filters.after, Submission.agency_id == agency_id))).scalar()
        query = query.where(Submission.id > (start if start is not None else 2**62))
    rows = (await db.execute(query.order_by(Submission.id).limit(min(filters.limit, MAX_PAGE)))).scalars()
    return [await view(db, submission) for submission in rows]
