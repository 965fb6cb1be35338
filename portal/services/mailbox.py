"""The party's mailbox: what arrived, what it starts, and what the party did with it.

Every query filters by the acting party (an organisation's items reach only its agents acting
for it); a foreign or unknown id is ``NotFound`` (SECURITY.md v5.0.0-8.2.2). Reading is a
POST that records a ``read`` event the first time, and never changes the service time; a
paper-copy request (Civil Procedure Law art. 90) is recorded once and shown to the agency.
Deadlines that run from the service time depend on what was served (``DEADLINES``); when the
agency later changed one (an extension, a deferral or an instalment plan, APL art. 66) the
item says so and shows the case's current last day (``changed_deadlines``), so a party reading
the decision in its mailbox is not left with a payment date that no longer holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases.deadlines import CaseDeadline, DeadlineKind, find
from portal.errors import NotFound
from portal.legal_calendar import (
    Deadline,
    HolidayCalendar,
    hearing_request_deadline,
    lawsuit_deadline,
    payment_deadline,
    reconsideration_deadline,
    statement_deadline,
)
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import Delivery, DeliveryRead, PaperCopyRequest
from portal.services import cases, consent, evidence

DeadlineRule = Callable[[datetime, HolidayCalendar], Deadline]
DEADLINES: dict[str, tuple[tuple[str, DeadlineRule], ...]] = {
    "行政处罚事先告知书": (("statement", statement_deadline), ("hearing_request", hearing_request_deadline)),
    "行政处罚决定书": (("payment", payment_deadline), ("reconsideration", reconsideration_deadline),
                  ("lawsuit", lawsuit_deadline)),
}
"""Document type → (deadline key, rule); the names people read are in ``catalogue.MAILBOX``."""


@dataclass(frozen=True)
class MailboxItem:
    delivery: Delivery
    case: Case
    agency: Agency
    read_at: datetime | None
    paper_copy_at: datetime | None


@dataclass(frozen=True)
class NamedDeadline:
    key: str
    deadline: Deadline


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


def deadlines(delivery: Delivery, calendar: HolidayCalendar) -> list[NamedDeadline]:
    """The deadlines this document starts, counted from its service time (legal_calendar)."""
    return [NamedDeadline(name, rule(delivery.arrived_at, calendar))
            for name, rule in DEADLINES.get(delivery.document_type, ())]


async def changed_deadlines(db: AsyncSession, delivery: Delivery, case: Case, party_id: int,
                            named: list[NamedDeadline], calendar: HolidayCalendar) -> dict[str, CaseDeadline]:
    """Per deadline key of ``named``, the case's current deadline when the agency changed it."""
    if not named:
        return {}
    current = await cases.deadlines(db, case, party_id, calendar)
    changed = {}
    for item in named:
        deadline = find(current, DeadlineKind(item.key))
        if deadline is not None and (deadline.extension or deadline.plan) \
                and deadline.last_day != item.deadline.last_day:
            changed[item.key] = deadline
    return changed
