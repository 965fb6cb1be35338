"""Submissions: a party exercising a right in its case, and the agency taking note of it.

``submit`` does everything of legal significance in the caller's one transaction: lock the
case's evidence chain (so the act is ordered against the agency's own steps: a decision
recorded a moment earlier closes the statement window for good), read the case and the
party's deadlines, take the instant of the act — the database clock read after the lock, or
the instant a test pinned — check the right is open at that instant (``portal.cases.rights``),
store the attachments content-addressed, and write the ``submission`` event, the row and its
attachments, with the follow-up jobs: the sealed receipt (提交回执) and, where the agency
registered one, the webhook. A refusal (``RightRefused``, 409) stores nothing but, at most,
unreferenced blobs. A form sent twice (the same one-time ``form_token``) files nothing the
second time: under the chain's lock the first act is found and ``AlreadyFiled`` names it, so
the party is shown that act's confirmation (``portal.web.form_tokens``); the token is unique
among submissions, so even a path that missed the lock could not record it twice. ``record``
is the writing half, shared with objections
(``services.objections``), which are filed where their subject is: a case's chain, or a
published item's.

Every query for a party is filtered by that party and its case (``case_for_party`` first, so a
foreign case is 404); ``acknowledge`` by the agency.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.attachments import Attachment
from portal.blobstore import BlobStore
from portal.cases.deadlines import CaseDeadline, DeadlineKind
from portal.cases.events import StageEvent
from portal.cases.rights import (
    BEFORE_DECISION,
    Refusal,
    RightsState,
    SubmissionKind,
    governing_window,
    refusal,
)
from portal.database import database_now
from portal.errors import Conflict, NotFound
from portal.evidence_hash import canonical_json, instant_text
from portal.legal_calendar import HolidayCalendar
from portal.models.cases import Case
from portal.models.rights import (
    Submission,
    SubmissionAcknowledgement,
    SubmissionAttachment,
    SubmissionReceipt,
)
from portal.services import case_followups, case_records, cases, evidence, jobs, publications, webhooks

RECEIPT_JOB = "submission_receipt"
WEBHOOK_JOB = "submission_webhook"
SUBMITTED = "submission"
ACKNOWLEDGED = "submission_acknowledged"
RECEIPT_ISSUED = "submission_receipt_issued"


class RightRefused(Conflict):
    """The right cannot be exercised now; ``refusal`` says why (and which deadline passed)."""

    def __init__(self, why: Refusal) -> None:
        super().__init__(why.deadline.explain() if why.deadline else None, code=why.code)
        self.refusal = why


class AlreadyFiled(Exception):
    """This form was filed already: ``public_id`` names the act it filed (nothing new is)."""

    def __init__(self, public_id: str) -> None:
        super().__init__(public_id)
        self.public_id = public_id


class ReceiptPending(Conflict):
    """The receipt is not issued yet (the worker issues it within seconds); ask again."""

    retry_after = 5

    def __init__(self) -> None:
        super().__init__(code="submission_receipt_pending")


_ACTS_ON = {SubmissionKind.STATEMENT: (DeadlineKind.STATEMENT,),
            SubmissionKind.HEARING_REQUEST: (DeadlineKind.HEARING_REQUEST,),
            SubmissionKind.WAIVER: (DeadlineKind.STATEMENT, DeadlineKind.HEARING_REQUEST)}


@dataclass(frozen=True)
class NewSubmission:
    kind: SubmissionKind
    content: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    form_token: str | None = None
    """The nonce of the one-time token of the form it came from (``portal.web.form_tokens``)."""


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


async def rights_state(db: AsyncSession, case: Case, party_id: int, calendar: HolidayCalendar,
                       events: list[StageEvent] | None = None) -> RightsState:
    """What ``portal.cases.rights`` needs to judge the party's acts in the case now."""
    if events is None:
        events = await cases.case_events(db, case)
    deadlines = await cases.deadlines(db, case, party_id, calendar, events)
    state = RightsState.of(events, deadlines, hearing_right=case.hearing_right, filed=frozenset())
    filed = await case_records.filed_against_notice(db, case, party_id, state.notice_seq)
    return RightsState.of(events, deadlines, hearing_right=case.hearing_right,
                          filed=filed.get(party_id, frozenset()))


@dataclass(frozen=True)
class Filing:
    """Where a submission is recorded: the evidence chain it joins (locked by the caller), the
    agency it goes to, and what it concerns (a case; for an objection also a document served,
    or a published item, which has no case)."""

    chain: str
    agency_id: int
    case_id: int | None
    delivery_id: int | None = None
    publication_id: int | None = None
    publication_version: int | None = None

    @classmethod
    def of_case(cls, case: Case) -> Filing:
        return cls(cases.chain_of(case), case.agency_id, case.id)


def chain_of(submission: Submission) -> str:
    """The evidence chain the submission and what follows it are recorded in."""
    if submission.case_id is not None:
        return f"case:{submission.case_id}"
    return publications.chain_of(submission.publication_id or 0)


async def submit(db: AsyncSession, blobs: BlobStore, *, case: Case, party_id: int,
                 person_id: int, actor: str, new: NewSubmission, calendar: HolidayCalendar,
                 now: datetime | None = None) -> Submission:
    """Record ``new`` for the party (see the module docstring); ``now``: a pinned instant."""
    filing = Filing.of_case(case)
    await evidence.lock(db, filing.chain)
    await refuse_refiling(db, party_id, new)
    state = await rights_state(db, case, party_id, calendar)
    received_at = now or await database_now(db)
    why = refusal(new.kind, state, received_at)
    if why is not None:
        raise RightRefused(why)
    submission = await record(db, blobs, filing, party_id=party_id, person_id=person_id, actor=actor,
                              new=new, received_at=received_at,
                              notice_seq=state.notice_seq if new.kind in BEFORE_DECISION else None,
                              window=governing_window(new.kind, state))
    if new.kind in _ACTS_ON:  # the party acted: no reminder of that window any more
        await case_followups.mark_acted(db, case, party_id, _ACTS_ON[new.kind], at=received_at)
    return submission


async def record(db: AsyncSession, blobs: BlobStore, filing: Filing, *, party_id: int,
                 person_id: int, actor: str, new: NewSubmission, received_at: datetime,
                 notice_seq: int | None = None, window: CaseDeadline | None = None) -> Submission:
    """Write an act already judged admissible, under ``filing.chain``'s lock: the attachments,
    the ``submission`` event, the row, and the follow-up jobs (receipt; webhook)."""
    await refuse_refiling(db, party_id, new)
    stored = [(attachment, await blobs.put(attachment.data)) for attachment in new.attachments]
    public_id = secrets.token_hex(16)
    digest = content_sha256(new.content)
    event = await evidence.append(db, chain=filing.chain, kind=SUBMITTED, actor=actor,
                                  occurred_at=received_at, payload={
                                      "submission": public_id, "kind": new.kind.value,
                                      "party_id": party_id, "notice_seq": notice_seq,
                                      "received_at": instant_text(received_at),
                                      "content_sha256": digest,
                                      "window": [window.kind.value, window.last_day.isoformat()]
                                      if window else None,
                                      "attachments": [[a.position, a.media_type.value, a.size, sha]
                                                      for a, sha in stored]})
    submission = Submission(public_id=public_id, case_id=filing.case_id, party_id=party_id,
                            agency_id=filing.agency_id, kind=new.kind.value, notice_seq=notice_seq,
                            window_kind=window.kind.value if window else None,
                            window_last_day=window.last_day if window else None,
                            content=new.content, content_sha256=digest,
                            submitted_by_person_id=person_id, actor=actor,
                            submitted_at=received_at, event_hash=event.hash,
                            delivery_id=filing.delivery_id, publication_id=filing.publication_id,
                            publication_version=filing.publication_version,
                            form_token=new.form_token)
    db.add(submission)
    await db.flush()
    for attachment, sha in stored:
        db.add(SubmissionAttachment(submission_id=submission.id, position=attachment.position,
                                    media_type=attachment.media_type.value, size=attachment.size,
                                    document_sha256=sha))
    await db.flush()
    await jobs.enqueue(db, RECEIPT_JOB, submission.id)
    if await webhooks.registration(db, filing.agency_id) is not None:
        await jobs.enqueue(db, WEBHOOK_JOB, submission.id,
                           payload={"delivery_id": secrets.token_hex(16)})
    return submission


async def filed_with(db: AsyncSession, party_id: int, form_token: str) -> Submission | None:
    """The party's act filed from the form whose one-time token had ``form_token``, if any."""
    return (await db.execute(select(Submission).where(
        Submission.form_token == form_token, Submission.party_id == party_id))).scalar_one_or_none()


async def refuse_refiling(db: AsyncSession, party_id: int, new: NewSubmission) -> None:
    """``AlreadyFiled`` if ``new``'s form was filed already; called under the chain's lock."""
    if new.form_token is not None:
        first = await filed_with(db, party_id, new.form_token)
        if first is not None:
            raise AlreadyFiled(first.public_id)


async def for_party(db: AsyncSession, case: Case, party_id: int, public_id: str) -> Submission:
    submission = (await db.execute(select(Submission).where(
        Submission.public_id == public_id, Submission.case_id == case.id,
        Submission.party_id == party_id))).scalar_one_or_none()
    if submission is None:
        raise NotFound()
    return submission


@dataclass(frozen=True)
class PartySubmission:
    """One of the party's submissions as its case page lists it."""

    submission: Submission
    receipt_issued: bool
    acknowledged_at: datetime | None


async def of_party(db: AsyncSession, case: Case, party_id: int) -> list[PartySubmission]:
    """The party's submissions in the case, newest first."""
    rows = (await db.execute(
        select(Submission, SubmissionReceipt.id, SubmissionAcknowledgement.acknowledged_at)
        .outerjoin(SubmissionReceipt, SubmissionReceipt.submission_id == Submission.id)
        .outerjoin(SubmissionAcknowledgement, SubmissionAcknowledgement.submission_id == Submission.id)
        .where(Submission.case_id == case.id, Submission.party_id == party_id)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc()))).all()
    return [PartySubmission(row[0], row[1] is not None, row[2]) for row in rows]


@dataclass(frozen=True)
class RightsOverview:
    """The rights block of the party's case page: what it may do now, and what it did."""

    state: RightsState
    refusals: dict[SubmissionKind, Refusal | None]
    submissions: tuple[PartySubmission, ...]
    now: datetime

    def window(self, kind: SubmissionKind) -> CaseDeadline | None:
        return governing_window(kind, self.state)


async def overview(db: AsyncSession, case: Case, party_id: int, calendar: HolidayCalendar,
                   now: datetime) -> RightsOverview:
    state = await rights_state(db, case, party_id, calendar)
    return RightsOverview(state, {kind: refusal(kind, state, now) for kind in SubmissionKind},
                          tuple(await of_party(db, case, party_id)), now)


async def acknowledge(db: AsyncSession, submission: Submission, actor: str) -> SubmissionAcknowledgement:
    """The agency's acknowledgement, recorded once; asking again answers the first."""
    await evidence.lock(db, chain_of(submission))
    existing = (await db.execute(select(SubmissionAcknowledgement).where(
        SubmissionAcknowledgement.submission_id == submission.id))).scalar_one_or_none()
    if existing is not None:
        return existing
    event = await evidence.append(db, chain=chain_of(submission), kind=ACKNOWLEDGED, actor=actor,
                                  payload={"submission": submission.public_id})
    acknowledgement = SubmissionAcknowledgement(submission_id=submission.id, actor=actor,
                                                acknowledged_at=event.occurred_at,
                                                event_hash=event.hash)
    db.add(acknowledgement)
    await db.flush()
    return acknowledgement


async def record_receipt(db: AsyncSession, submission: Submission, document_sha256: str,
                         issued_at: datetime) -> bool:
    """Record the sealed receipt once; False if one was recorded already (a job ran twice)."""
    await evidence.lock(db, chain_of(submission))
    if await receipt_of(db, submission.id) is not None:
        return False
    event = await evidence.append(db, chain=chain_of(submission), kind=RECEIPT_ISSUED,
                                  actor="portal", payload={"submission": submission.public_id,
                                                           "receipt_sha256": document_sha256})
    db.add(SubmissionReceipt(submission_id=submission.id, document_sha256=document_sha256,
                             issued_at=issued_at, event_hash=event.hash))
    await db.flush()
    return True


async def receipt_of(db: AsyncSession, submission_id: int) -> SubmissionReceipt | None:
    return (await db.execute(select(SubmissionReceipt).where(
        SubmissionReceipt.submission_id == submission_id))).scalar_one_or_none()
