"""A served decision's fine is payable where the party looks for it.

Why this exists: the case page counts the 15 days to pay from the decision's service (the
``decided`` event, or the 行政处罚决定书's arrival in the party's mailbox), while 我的罚款 and
the pay button need a ``Fine`` row with its payment code, which only ``POST /api/v1/fines``
made. An agency that recorded its decision and served it, but did not make that second call,
left the party with a payment deadline and nowhere to pay: 福州示例科技有限公司's 5,000 yuan
decision in the demo was exactly that.

So the portal makes the fine payable itself at the moment the decision is served on the party,
with the same service time the case page counts from (``case_records.party_times``: the
portal's own service where it served the decision, else the agency's ``served_at``), the
decision's number and amount, and a payment code of its own. The agencies' API is unchanged:
``POST /api/v1/fines`` for such a decision answers the fine the portal made (same number and
amount; ``services.fines.create_fine``), and one made earlier by the agency is never doubled:
nothing is created when the party already has a fine in the case, or the decision number is
taken.

A case with several parties is left to the agency: a decision fines each party separately
(one fine per decision number), and which amount is whose is the agency's to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases.events import EventKind, StageEvent, last
from portal.database import database_now
from portal.legal_calendar import china_date
from portal.models.cases import Case, CaseParty
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.models.payments import Fine
from portal.services import case_records, cases, fines

COLLECTING_ACCOUNT = "财政非税收入汇缴结算户（以缴款码为准）"
"""What the fine's page shows as 执收账户: the platform routes the money by the payment code."""


async def make_payable(db: AsyncSession, case: Case) -> Fine | None:
    """The fine the portal made payable now for ``case``'s served decision, or None when there
    is nothing to do (no served decision with a fine, several parties, a fine exists)."""
    events = await cases.case_events(db, case)
    decided = last(events, EventKind.DECIDED)
    amount = int(decided.data.get("fine_fen", 0)) if decided else 0
    if decided is None or amount <= 0:
        return None
    party_ids = list((await db.execute(select(CaseParty.party_id).where(
        CaseParty.case_id == case.id))).scalars())
    if len(party_ids) != 1:
        return None
    number = str(decided.data["decision_number"])
    taken = await db.execute(select(Fine.id).where(
        (Fine.case_id == case.id) & (Fine.party_id == party_ids[0])
        | (Fine.agency_id == case.agency_id) & (Fine.decision_number == number)))
    if taken.first() is not None:
        return None
    party = await db.get(Party, party_ids[0])
    if party is None:
        return None
    data = await _service(db, case, party, number, amount, events)
    if data is None:
        return None
    fine, _ = await fines.create_fine(db, case.agency_id, data, actor=fines.ON_SERVICE_ACTOR)
    return fine


async def _service(db: AsyncSession, case: Case, party: Party, number: str, amount: int,
                   events: Sequence[StageEvent]) -> fines.NewFine | None:
    """The fine to make, from the party's service, or None while the decision is not served."""
    times = await case_records.party_times(db, case, party.id, events)
    made = partial(fines.NewFine, decision_number=number, amount_fen=amount,
                   collecting_account=COLLECTING_ACCOUNT, surcharge_applies=True)
    if times.decision_served_at is not None:
        delivery = (await db.execute(select(Delivery.public_id).where(
            Delivery.case_id == case.id, Delivery.party_id == party.id,
            Delivery.document_type == case_records.DECISION_DOCUMENT,
            Delivery.arrived_at == times.decision_served_at))).scalars().first()
        if delivery is not None:
            return made(delivery_id=delivery)
    decided = last(events, EventKind.DECIDED)
    served = decided.instant("served_at") if decided else None
    if served is None or china_date(served) > china_date(await database_now(db)):
        return None
    return made(served_on=china_date(served), case_code=case.code,
                party_key=party.id_number or party.credit_code)
