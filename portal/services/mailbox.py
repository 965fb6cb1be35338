"""The party's mailbox: what arrived, what it starts, and what the party did with it.

Every query filters by the acting party (an organisation's items reach only its agents acting
for it); a foreign or unknown id is ``NotFound`` (SECURITY.md v5.0.0-8.2.2). Reading is a
POST that records a ``read`` event the first time, and never changes the service time; a
paper-copy request (Civil Procedure Law art. 90) is recorded once and shown to the agency.
The deadlines an item shows are the case's (``services.cases.deadlines``, the one place the
case page and the agency API take them from too): those the served document started, where it
is the document that served the party the case's current prior notice or decision
(``case_records``). So a 事先告知书 shows the hearing-request window only where the case has
the hearing right, a 决定书 the payment period only where the decision has a fine, and a
period the agency later changed (an extension, a deferral or an instalment plan, APL art. 66)
shows its current last day, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases.deadlines import CaseDeadline, DeadlineKind
from portal.errors import NotFound
from portal.legal_calendar import HolidayCalendar
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import Delivery, DeliveryRead, PaperCopyRequest
from portal.services import case_records, cases, consent, evidence

STARTED_BY: dict[str, tuple[DeadlineKind, ...]] = {
    case_records.NOTICE_DOCUMENT: (DeadlineKind.STATEMENT, DeadlineKind.HEARING_REQUEST),
    case_records.DECISION_DOCUMENT: (DeadlineKind.PAYMENT, DeadlineKind.RECONSIDERATION,
                                     DeadlineKind.LAWSUIT),
}
"""Document type → the kinds of deadline its service may start."""


@dataclass(frozen=True)
class MailboxItem:
    delivery: Delivery
    case: Case
    agency: Agency
    read_at: datetime | None
    paper_copy_at: datetime | None


def _items_query(party_id: int) -> Select[Delivery, Case, Agency, datetime, datetime]:
    return (select(Delivery, Case, Agency, DeliveryRead.read_at, PaperCopyRequest.requested_at)
            .join(Case, Case.id == Delivery.case_id)
            .join(Agency, Agency.id == Delivery.agency_id)
            .outerjoin(DeliveryRead, DeliveryRead.delivery_id == Delivery.id)
            .outerjoin(PaperCopyRequest, PaperCopyRequest.delivery_id == Delivery.id)
            .where(Delivery.party_id == party_id))


def _item(row: Row[Delivery, Case, Agency, datetime, datetime]) -> MailboxItem:
    delivery, case, agency, read_at, paper_copy_at = row
    return MailboxItem(delivery, case, agency, read_at, paper_copy_at)


async def items(db: AsyncSession, party_id: int, *, case_code: str | None = None,
                document_type: str | None = None) -> list[MailboxItem]:
    query = _items_query(party_id).order_by(Delivery.arrived_at.desc(), Delivery.id.desc())
    if case_code:
        query = query.where(Case.code == case_code)
    if document_type:
        query = query.where(Delivery.document_type == document_type)
    return [_item(row) for row in (await db.execute(query)).all()]


async def item(db: AsyncSession, party_id: int, public_id: str) -> MailboxItem:
    row = (await db.execute(_items_query(party_id).where(Delivery.public_id == public_id))).first()
    if row is None:
        raise NotFound()
    return _item(row)


async def unread_count(db: AsyncSession, party_id: int) -> int:
    query = (select(func.count()).select_from(Delivery)
             .outerjoin(DeliveryRead, DeliveryRead.delivery_id == Delivery.id)
             .where(Delivery.party_id == party_id, DeliveryRead.id.is_(None)))
    return int((await db.execute(query)).scalar_one())


async def record_read(db: AsyncSession, delivery: Delivery, reader_person_id: int, actor: str) -> None:
    """The first opening is evidence; later ones change nothing (the service time never)."""
    chain = consent.party_chain(delivery.party_id)
    await evidence.lock(db, chain)
    if (await db.execute(select(DeliveryRead.id).where(DeliveryRead.delivery_id == delivery.id))).first():
        return
    event = await evidence.append(db, chain=chain, kind="read", actor=actor,
                                  payload={"delivery": delivery.public_id})
    db.add(DeliveryRead(delivery_id=delivery.id, reader_person_id=reader_person_id,
                        read_at=event.occurred_at, event_hash=event.hash))
    await db.flush()


async def request_paper_copy(db: AsyncSession, delivery: Delivery, requester_person_id: int,
                             actor: str) -> None:
    chain = consent.party_chain(delivery.party_id)
    await evidence.lock(db, chain)
    if (await db.execute(select(PaperCopyRequest.id)
                         .where(PaperCopyRequest.delivery_id == delivery.id))).first():
        return
    event = await evidence.append(db, chain=chain, kind="paper_copy_requested", actor=actor,
                                  payload={"delivery": delivery.public_id})
    db.add(PaperCopyRequest(delivery_id=delivery.id, requester_person_id=requester_person_id,
                            requested_at=event.occurred_at, event_hash=event.hash))
    await db.flush()


async def deadlines(db: AsyncSession, item: MailboxItem, party_id: int,
                    calendar: HolidayCalendar) -> list[CaseDeadline]:
    """The case's deadlines for ``party_id`` that this item's service started (see the module
    docstring); none where the document served nothing the case recorded, or was replaced."""
    kinds = STARTED_BY.get(item.delivery.document_type, ())
    if not kinds:
        return []
    events = await cases.case_events(db, item.case)
    times = await case_records.party_times(db, item.case, party_id, events)
    served = times.notice_served_at if kinds[0] is DeadlineKind.STATEMENT else times.decision_served_at
    if served != item.delivery.arrived_at:
        return []
    return [deadline for deadline in await cases.deadlines(db, item.case, party_id, calendar, events)
            if deadline.kind in kinds]
