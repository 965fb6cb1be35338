"""What a submission looks like to the agency, the webhook, the receipt and the party's pages:
one value object gathered by one query, so they all state the same facts.

The agency's reads are filtered by the agency (``for_agency``, ``agency_list``): another
agency's submission is 404 like a missing one (SECURITY.md, 8.4.1). The agency sees the party
in full (it is the agency's case); the list answers the oldest first so that an agency
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
from portal.errors import NotFound
from portal.evidence_hash import instant_text
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.parties import Party
from portal.models.rights import (
    Submission,
    SubmissionAcknowledgement,
    SubmissionAttachment,
    SubmissionReceipt,
)

MAX_PAGE = 100
STATUSES = ("new", "acknowledged", "all")


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    case: Case
    agency: Agency
    party: Party
    submitter: Party
    attachments: tuple[SubmissionAttachment, ...]
    receipt: SubmissionReceipt | None
    acknowledgement: SubmissionAcknowledgement | None

    @property
    def acts_for_other(self) -> bool:
        return self.submitter.id != self.party.id

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
            "case_code": self.case.code,
            "agency_case_number": self.case.agency_case_number,
            "party": {"kind": p.kind, "name": p.name,
                      **({"id_number": p.id_number} if p.id_number else {"credit_code": p.credit_code})},
            "submitted_by": {"name": self.submitter.name, "on_behalf": self.acts_for_other},
            "submitted_at": instant_text(s.submitted_at),
            "notice_seq": s.notice_seq,
            "window": {"kind": s.window_kind, "last_day": s.window_last_day.isoformat()}
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
        }


async def view(db: AsyncSession, submission: Submission) -> SubmissionView:
    case = await db.get(Case, submission.case_id)
    agency = await db.get(Agency, submission.agency_id)
    party = await db.get(Party, submission.party_id)
    submitter = await db.get(Party, submission.submitted_by_person_id)
    assert case and agency and party and submitter
    attachments = tuple((await db.execute(select(SubmissionAttachment).where(
        SubmissionAttachment.submission_id == submission.id)
        .order_by(SubmissionAttachment.position))).scalars())
    receipt = (await db.execute(select(SubmissionReceipt).where(
        SubmissionReceipt.submission_id == submission.id))).scalar_one_or_none()
    acknowledgement = (await db.execute(select(SubmissionAcknowledgement).where(
        SubmissionAcknowledgement.submission_id == submission.id))).scalar_one_or_none()
    return SubmissionView(submission, case, agency, party, submitter, attachments, receipt,
                          acknowledgement)


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
