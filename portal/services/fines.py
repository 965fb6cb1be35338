"""Fines: an agency makes a served decision's fine payable, and finds it again.

A fine exists only for a decision that was served (SECURITY.md 2.3.1: no payment before
service): either a 行政处罚决定书 delivered through the portal, whose arrival is the service
time, or a decision served otherwise on a date the agency states (not in the future). The due
date is counted from the service by ``portal.legal_calendar.payment_deadline`` (15 days,
holiday rule; APL art. 67) and stored with its explanation, so the party and the agency read
the same date however the calendar table changes later.

Each fine gets a payment code (缴款码, 20 digits from a CSPRNG with a Luhn check digit) that
the payment platform collects against, and an evidence chain ``fine:<public id>`` whose first
event is its creation. Creating the same decision's fine again with the same content returns
the first (a retried request); different content is ``fine_exists`` (409).

Who sees a fine is decided in the queries here: the agency its own, a party the fines of which
it is the party; anything else is ``NotFound`` (SECURITY.md 8.2.2, 8.4.1).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases import codes as case_codes
from portal.database import database_now, get_existing
from portal.errors import Conflict, NotFound, Unprocessable
from portal.evidence_hash import canonical_json
from portal.legal_calendar import china_date, payment_deadline
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.evidence import EvidenceEvent
from portal.models.parties import Party
from portal.models.payments import Fine
from portal.services import cases, deliveries, evidence
from portal.services.calendar import load_calendar

__all__ = ["DECISION_TYPE", "ON_SERVICE_ACTOR", "NewFine", "chain_of", "create_fine", "fine_for_agency",
           "fine_for_party", "fines_of_party", "lock_fine", "new_payment_code"]

DECISION_TYPE = "行政处罚决定书"
ON_SERVICE_ACTOR = "portal:on-service"
"""The actor of a fine the portal made payable when its decision was served."""
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class NewFine:
    """What an agency sends (``POST /api/v1/fines``), already checked for shape: either
    ``delivery_id`` (served through the portal) or ``served_on`` with ``case_code`` and
    ``party_key`` (an ID number or credit code)."""

    decision_number: str
    amount_fen: int
    collecting_account: str
    surcharge_applies: bool
    delivery_id: str | None = None
    served_on: date | None = None
    case_code: str | None = None
    party_key: str | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(canonical_json({
            "decision_number": self.decision_number, "amount_fen": self.amount_fen,
            "collecting_account": self.collecting_account,
            "surcharge_applies": self.surcharge_applies, "delivery_id": self.delivery_id,
            "served_on": self.served_on.isoformat() if self.served_on else None,
            "case_code": self.case_code, "party_key": self.party_key,
        }).encode()).hexdigest()


def chain_of(fine: Fine) -> str:
    return f"fine:{fine.public_id}"


def _luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_payment_code() -> str:
    """20 digits: 19 from a CSPRNG (not guessable from a neighbour's) and a Luhn check digit,
    so a mistyped code at a bank counter is caught before it reaches the platform."""
    body = "".join(secrets.choice("0123456789") for _ in range(19))
    return body + _luhn_digit(body)


async def _served(db: AsyncSession, agency_id: int, data: NewFine,
                  today: date) -> tuple[Case, Party, Delivery | None, date]:
    """The case, the party and the service the fine runs from, or the refusal."""
    if data.delivery_id is not None:
        try:
            delivery = await deliveries.delivery_for_agency(db, agency_id, data.delivery_id)
        except NotFound:
            raise Unprocessable("unknown_delivery") from None
        if delivery.document_type != DECISION_TYPE:
            raise Unprocessable("not_a_decision")
        case = await get_existing(db, Case, delivery.case_id)
        party = await get_existing(db, Party, delivery.party_id)
        if data.case_code is not None and case_codes.normalise(data.case_code) != case.code:
            raise Unprocessable("delivery_case_mismatch")
        return case, party, delivery, china_date(delivery.arrived_at)
    if data.served_on is None or data.case_code is None or data.party_key is None:
        raise RuntimeError("a fine runs from a delivery, or from served_on, case_code and party_key")
    if data.served_on > today:
        raise Unprocessable("service_in_future")
    case = await cases.case_for_agency(db, agency_id, data.case_code)
    party = await deliveries.party_of_case(db, case.id, data.party_key)
    return case, party, None, data.served_on


async def create_fine(db: AsyncSession, agency_id: int, data: NewFine, *,
                      actor: str) -> tuple[Fine, bool]:
    """The fine for ``data`` and whether it was created now (False: a retry of the same)."""
    earlier = (await db.execute(select(Fine).where(
        Fine.agency_id == agency_id, Fine.decision_number == data.decision_number))).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_sha256 == data.fingerprint() or (
                earlier.amount_fen == data.amount_fen and await _made_on_service(db, earlier)):
            return earlier, False
        raise Conflict(code="fine_exists", extra={"fine_id": earlier.public_id})
    now = await database_now(db)
    case, party, delivery, served_on = await _served(db, agency_id, data, china_date(now))
    calendar = await load_calendar(db)
    deadline = payment_deadline(delivery.arrived_at if delivery else served_on, calendar)
    public_id = secrets.token_hex(16)
    code = await _free_payment_code(db)
    event = await evidence.append(db, chain=f"fine:{public_id}", kind="fine_created", actor=actor,
                                  occurred_at=now, payload={
                                      "fine": public_id, "case": case.code, "party_id": party.id,
                                      "decision_number": data.decision_number,
                                      "amount_fen": data.amount_fen,
                                      "collecting_account": data.collecting_account,
                                      "surcharge_applies": data.surcharge_applies,
                                      "delivery": delivery.public_id if delivery else None,
                                      "served_on": served_on.isoformat(),
                                      "payment_code": code, "due_date": deadline.last_day.isoformat()})
    fine = Fine(public_id=public_id, agency_id=agency_id, case_id=case.id, party_id=party.id,
                delivery_id=delivery.id if delivery else None,
                served_at=delivery.arrived_at if delivery else None, served_on=served_on,
                decision_number=data.decision_number, amount_fen=data.amount_fen,
                collecting_account=data.collecting_account,
                surcharge_applies=data.surcharge_applies, payment_code=code,
                due_date=deadline.last_day, due_explanation=deadline.explain()[:500],
                request_sha256=data.fingerprint(), created_at=now, event_hash=event.hash)
    db.add(fine)
    await db.flush()
    return fine, True


async def _made_on_service(db: AsyncSession, fine: Fine) -> bool:
    """Whether the portal made ``fine`` payable itself when the decision was served
    (``services.served_fines``): the agency's own request for it then answers that fine."""
    actor = (await db.execute(select(EvidenceEvent.actor).where(
        EvidenceEvent.hash == fine.event_hash))).scalar_one_or_none()
    return actor == ON_SERVICE_ACTOR


async def _free_payment_code(db: AsyncSession) -> str:
    for _ in range(_CODE_ATTEMPTS):
        code = new_payment_code()
        if (await db.execute(select(Fine.id).where(Fine.payment_code == code))).first() is None:
            return code
    raise RuntimeError("no free payment code after several attempts: is the generator broken?")


async def fine_for_agency(db: AsyncSession, agency_id: int, public_id: str) -> Fine:
    fine = (await db.execute(select(Fine).where(
        Fine.public_id == public_id, Fine.agency_id == agency_id))).scalar_one_or_none()
    if fine is None:
        raise NotFound()
    return fine


async def fine_for_party(db: AsyncSession, party_id: int, public_id: str) -> Fine:
    fine = (await db.execute(select(Fine).where(
        Fine.public_id == public_id, Fine.party_id == party_id))).scalar_one_or_none()
    if fine is None:
        raise NotFound()
    return fine


async def fines_of_party(db: AsyncSession, party_id: int) -> list[Fine]:
    """The party's fines, newest first."""
    return list((await db.execute(select(Fine).where(Fine.party_id == party_id)
                                  .order_by(Fine.created_at.desc(), Fine.id.desc()))).scalars())


_Row = TypeVarTuple("_Row")


async def lock_fine(db: AsyncSession, fine_id: int) -> Fine:
    """The fine, locked until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite holds
    its one write lock from ``BEGIN IMMEDIATE``): everything that changes what a fine's
    orders and payments are takes this first, so clicks and callbacks on one fine queue up."""
    query = select(Fine).where(Fine.id == fine_id)
    return (await db.execute(locking_fine(db, query))).scalar_one()


def locking_fine(db: AsyncSession, query: Select[*_Row]) -> Select[*_Row]:
    """``query`` (which reads a fine, joined to whatever else it reads) taking that fine's
    lock as ``lock_fine`` does, and refreshing it from the row it locked: a caller that needs
    the fine's case or order too reads them in the same round trip. Only the fine is locked:
    the rows joined to it are as of the statement's start, so what may have changed while
    it waited (the order) is read again after it."""
    query = query.execution_options(populate_existing=True)
    return query.with_for_update(of=Fine) if db.get_bind().dialect.name == "postgresql" else query
