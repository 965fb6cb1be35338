"""Objections to data (数据异议 / 纠错): filed where the data is shown, answered by the agency
(GD art. 49; FJ art. 15; PIPL art. 46; ``portal.cases.objections`` for the values).

An objection is a submission (``services.submissions.record``): the same sealed receipt, the
same agency API, the same webhook. Where it is filed follows from its subject:

- the case (``on_case``) and a document served in it (``on_delivery``): in the case's chain,
  by a party of the case, resp. the party the document was served on (found through the
  party's own case or mailbox, so anyone else's is ``NotFound``);
- a published item (``on_publication``): in the item's chain ``publication:<id>``, while the
  item is public, by a party it concerns (``publication_subjects.concerns``; anyone else is
  ``NotConcerned``, 403: the item is public, but not theirs to object to).

``answer`` records the agency's answer once, in the chain the objection is in, acknowledges
the objection if the agency had not, and queues the party's notice; the same answer again
answers the first, a different one is ``Conflict`` ``objection_already_answered``.
``open_on`` tells the public pages which items are under objection (unanswered), never by whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import Kind, Renderer
from portal.attachments import Attachment
from portal.blobstore import BlobStore
from portal.cases.objections import Answer, Subject, SubjectKind
from portal.cases.rights import SubmissionKind
from portal.database import database_now
from portal.errors import Conflict, Forbidden, NotFound
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.models.publicity import Publication
from portal.models.rights import ObjectionAnswer, Submission, SubmissionReceipt
from portal.services import evidence, outbox, publication_subjects, publications, submissions
from portal.services.publicity_search import visible

ANSWERED = "objection_answered"


class NotConcerned(Forbidden):
    """The published item does not concern the acting party, as far as the portal can tell."""

    def __init__(self) -> None:
        super().__init__(code="objection_not_concerned")


@dataclass(frozen=True)
class Filed:
    """Who objects, and with what (the subject comes from where the form was opened)."""

    party_id: int
    person_id: int
    actor: str
    fields: dict[str, str]
    attachments: tuple[Attachment, ...] = ()
    form_token: str | None = None
    """The nonce of the form's one-time token (``submissions.NewSubmission.form_token``)."""


def _new(subject: Subject, filed: Filed) -> submissions.NewSubmission:
    return submissions.NewSubmission(SubmissionKind.OBJECTION,
                                     {**filed.fields, "subject": subject.content()}, filed.attachments,
                                     filed.form_token)


async def _record(db: AsyncSession, blobs: BlobStore, filing: submissions.Filing,
                  subject: Subject, filed: Filed, now: datetime | None) -> Submission:
    await evidence.lock(db, filing.chain)
    return await submissions.record(db, blobs, filing, party_id=filed.party_id,
                                    person_id=filed.person_id, actor=filed.actor,
                                    new=_new(subject, filed),
                                    received_at=now or await database_now(db))


async def on_case(db: AsyncSession, blobs: BlobStore, case: Case, filed: Filed, *,
                  now: datetime | None = None) -> Submission:
    """An objection to the case's record; ``case`` was found for the acting party."""
    return await _record(db, blobs, submissions.Filing.of_case(case), Subject(SubjectKind.CASE),
                         filed, now)


async def on_delivery(db: AsyncSession, blobs: BlobStore, delivery: Delivery, filed: Filed, *,
                      now: datetime | None = None) -> Submission:
    """An objection to a document served; ``delivery`` was found in the party's mailbox."""
    subject = Subject(SubjectKind.DELIVERY, delivery=delivery.public_id, document_title=delivery.title)
    filing = submissions.Filing(f"case:{delivery.case_id}", delivery.agency_id, delivery.case_id,
                                delivery_id=delivery.id)
    return await _record(db, blobs, filing, subject, filed, now)


async def public_item(db: AsyncSession, publication_id: int, now: datetime) -> Publication:
    """The item, if it is public now; else ``NotFound`` (as its public page answers)."""
    if not 0 < publication_id <= publications.MAX_ID:
        raise NotFound()
    found = await db.scalar(select(Publication).where(
        Publication.id == publication_id, Publication.withdrawn_at.is_(None), visible(now)))
    if found is None:
        raise NotFound()
    return found


async def check_concerned(db: AsyncSession, secret_key: str, item: Publication, party_id: int) -> None:
    party = await db.get(Party, party_id)
    if party is None or not await publication_subjects.concerns(db, secret_key, item, party):
        raise NotConcerned()


async def on_publication(db: AsyncSession, blobs: BlobStore, secret_key: str,
                         publication_id: int, filed: Filed, *,
                         now: datetime | None = None) -> Submission:
    """An objection to the current version of a public item that concerns the party."""
    now = now or await database_now(db)
    item = await public_item(db, publication_id, now)
    chain = publications.chain_of(item.id)
    await evidence.lock(db, chain)
    await db.refresh(item)  # a version or a withdrawal recorded while we waited for the lock
    if item.withdrawn_at is not None:
        raise NotFound()
    await check_concerned(db, secret_key, item, filed.party_id)
    subject = Subject(SubjectKind.PUBLICATION, publication=item.id, version=item.version)
    filing = submissions.Filing(chain, item.agency_id, None, publication_id=item.id,
                                publication_version=item.version)
    return await submissions.record(db, blobs, filing, party_id=filed.party_id,
                                    person_id=filed.person_id, actor=filed.actor,
                                    new=_new(subject, filed), received_at=now)


async def for_party(db: AsyncSession, party_id: int, public_id: str) -> Submission:
    """One of the party's objections (wherever filed); anyone else's is ``NotFound``."""
    found = await db.scalar(select(Submission).where(
        Submission.public_id == public_id, Submission.party_id == party_id,
        Submission.kind == SubmissionKind.OBJECTION.value))
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class PartyObjection:
    """One line of the party's list of objections."""

    submission: Submission
    receipt_issued: bool
    answer: ObjectionAnswer | None


async def of_party(db: AsyncSession, party_id: int) -> list[PartyObjection]:
    """The party's objections, newest first."""
    rows = (await db.execute(
        select(Submission, SubmissionReceipt.id, ObjectionAnswer)
        .outerjoin(SubmissionReceipt, SubmissionReceipt.submission_id == Submission.id)
        .outerjoin(ObjectionAnswer, ObjectionAnswer.submission_id == Submission.id)
        .where(Submission.party_id == party_id, Submission.kind == SubmissionKind.OBJECTION.value)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc()))).all()
    return [PartyObjection(row[0], row[1] is not None, row[2]) for row in rows]


async def answer(db: AsyncSession, submission: Submission, given: Answer, actor: str,
                 renderer: Renderer) -> tuple[ObjectionAnswer, bool]:
    """Record the agency's answer (module docstring); True if this call recorded it."""
    if submission.kind != SubmissionKind.OBJECTION.value:
        raise NotFound()
    chain = submissions.chain_of(submission)
    await evidence.lock(db, chain)
    existing = await db.scalar(select(ObjectionAnswer).where(
        ObjectionAnswer.submission_id == submission.id))
    if existing is not None:
        if (existing.outcome, existing.text, existing.corrected_version) != (
                given.outcome.value, given.text, given.corrected_version):
            raise Conflict(code="objection_already_answered")
        return existing, False
    event = await evidence.append(db, chain=chain, kind=ANSWERED, actor=actor, payload={
        "submission": submission.public_id,
        "answer_sha256": submissions.content_sha256(given.content())})
    row = ObjectionAnswer(submission_id=submission.id, outcome=given.outcome.value, text=given.text,
                          corrected_version=given.corrected_version, actor=actor,
                          answered_at=event.occurred_at, event_hash=event.hash)
    db.add(row)
    await db.flush()
    await submissions.acknowledge(db, submission, actor)
    await outbox.enqueue(db, event_id=f"objection-answer:{event.hash}", kind=Kind.OBJECTION_ANSWERED,
                         party_id=submission.party_id, renderer=renderer, now=event.occurred_at,
                         context={"answered_at": event.occurred_at,
                                  "agency_name": await agency_name(db, submission.agency_id)})
    return row, True


async def open_on(db: AsyncSession, publication_ids: Sequence[int]) -> dict[int, datetime]:
    """Of these items, those under objection (an objection not yet answered): the first such
    objection's instant, by item. Who objected is not part of the answer."""
    if not publication_ids:
        return {}
    rows = await db.execute(
        select(Submission.publication_id, Submission.submitted_at)
        .outerjoin(ObjectionAnswer, ObjectionAnswer.submission_id == Submission.id)
        .where(Submission.publication_id.in_(publication_ids), ObjectionAnswer.id.is_(None))
        .order_by(Submission.submitted_at))
    found: dict[int, datetime] = {}
    for publication_id, submitted_at in rows.all():
        if publication_id is not None:
            found.setdefault(publication_id, submitted_at)
    return found


async def agency_name(db: AsyncSession, agency_id: int) -> str:
    return str(await db.scalar(select(Agency.name).where(Agency.id == agency_id)))
