"""Delivering a sealed document to a party's mailbox: arrival is service.

``deliver`` does everything of legal significance in the caller's one transaction, in this
order: check the consent, store the document (content-addressed, fsynced), lock the party's
evidence chain (so a revocation cannot interleave), check the consent in force again under
the lock (that reading is the one relied on), then take the arrival instant from
the database clock and write the delivery row and its ``arrived`` event together with the
follow-up jobs (RFC 3161 timestamp over the event hash, service receipt) and the party's
notifications (outbox rows; a notification is never the service itself).
The instant is read as late as possible before COMMIT (PITFALLS.md), and the mailbox item
becomes visible to the party at that commit and not before. If anything fails, nothing is
stored but, at most, an unreferenced blob.

Seal validation happens before, outside the transaction (it runs in worker processes); the
caller passes only documents whose agency seal validated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import Kind, Renderer
from portal.blobstore import BlobStore
from portal.cases import codes as case_codes
from portal.database import advisory_lock, database_now
from portal.errors import NotFound, Unprocessable
from portal.evidence_hash import canonical_json
from portal.models.agencies import Agency
from portal.models.cases import Case, CaseParty
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.services import case_followups, consent, delivery_views, evidence, jobs, outbox
from portal.services.delivery_views import DeliveryView

DOCUMENT_TYPES = (
    "行政处罚事先告知书",
    "行政处罚决定书",
    "听证通知书",
    "不予行政处罚决定书",
    "行政强制措施决定书",
    "责令改正通知书",
    "催告书",
    "其他执法文书",
)
TIMESTAMP_JOB = "arrival_timestamp"
RECEIPT_JOB = "service_receipt"
# An arbitrary advisory lock namespace for "delivery Idempotency-Keys".
_IDEMPOTENCY_LOCK = 0x494450


@dataclass(frozen=True)
class DeliveryRequest:
    document_type: str
    title: str
    document: bytes
    idempotency_key: str | None

    @property
    def document_sha256(self) -> str:
        return hashlib.sha256(self.document).hexdigest()

    def fingerprint(self, case_code: str, party_key: str) -> str:
        """What makes two requests 'the same' for the Idempotency-Key check."""
        return hashlib.sha256(canonical_json({
            "case": case_code, "party": party_key, "type": self.document_type,
            "title": self.title, "document": self.document_sha256,
        }).encode()).hexdigest()


async def party_of_case(db: AsyncSession, case_id: int, identifier: str) -> Party:
    """The party of the case with this ID number or credit code, else ``party_not_in_case``."""
    party = (await db.execute(
        select(Party).join(CaseParty, CaseParty.party_id == Party.id)
        .where(CaseParty.case_id == case_id,
               or_(Party.id_number == identifier, Party.credit_code == identifier))
    )).scalar_one_or_none()
    if party is None:
        raise Unprocessable("party_not_in_case")
    return party


async def delivery_for_agency(db: AsyncSession, agency_id: int, public_id: str) -> Delivery:
    delivery = (await db.execute(select(Delivery).where(
        Delivery.public_id == public_id, Delivery.agency_id == agency_id))).scalar_one_or_none()
    if delivery is None:
        raise NotFound()
    return delivery


async def find_by_idempotency_key(db: AsyncSession, agency_id: int, key: str) -> Delivery | None:
    return (await db.execute(select(Delivery).where(
        Delivery.agency_id == agency_id, Delivery.idempotency_key == key))).scalar_one_or_none()


async def replay(db: AsyncSession, agency_id: int, request: DeliveryRequest,
                 fingerprint: str) -> Delivery | None:
    """The earlier delivery for the same Idempotency-Key, or None; 422 if the body differs.

    The key is locked first and held until the caller's transaction ends: an agency's retry
    that races its first attempt (after a timeout, through another node) waits for that
    attempt's commit and is answered with its delivery, instead of serving a second time
    or failing on the key's unique constraint."""
    if not request.idempotency_key:
        return None
    await advisory_lock(db, _IDEMPOTENCY_LOCK, f"{agency_id}:{request.idempotency_key}")
    earlier = await find_by_idempotency_key(db, agency_id, request.idempotency_key)
    if earlier is not None and earlier.request_sha256 != fingerprint:
        raise Unprocessable("idempotency_key_reused")
    return earlier


async def deliver(db: AsyncSession, blobs: BlobStore, *, case: Case, party: Party,
                  request: DeliveryRequest, fingerprint: str, actor: str,
                  renderer: Renderer) -> Delivery:
    """Serve ``request.document`` on ``party`` in ``case`` (see the module docstring)."""
    view = await arrive(db, blobs, case=case, party=party, request=request, fingerprint=fingerprint,
                        actor=actor, renderer=renderer)
    return view.delivery


async def arrive(db: AsyncSession, blobs: BlobStore, *, case: Case, party: Party,
                 request: DeliveryRequest, fingerprint: str, actor: str,
                 renderer: Renderer) -> DeliveryView:
    """``deliver``, answered as the agency sees the delivery (``delivery_views``) from the rows
    this transaction wrote and read: the API's answer costs the party's chain lock, held until
    the commit, no further query."""
    # Before the party's chain is locked, so that the lock (which every other act on this
    # party waits for) is held for the act alone: a first reading of the consent (a delivery
    # it refuses stores nothing, not even the document), the document (stored and committed
    # on a connection of its own) and the serving agency.
    await consent.require_in_force(db, party.id, case.agency_id)
    digest = await blobs.put(request.document)
    agency = await db.get(Agency, case.agency_id)
    if agency is None:
        raise RuntimeError(f"case {case.id!r}: its agency is missing")
    chain = consent.party_chain(party.id)
    head = await evidence.lock(db, chain)
    # the reading relied on: under the lock, no revocation can slip in before the arrival
    relied_on = await consent.require_in_force(db, party.id, case.agency_id)
    public_id = secrets.token_hex(16)
    arrived_at = await database_now(db)
    event = await evidence.append(db, chain=chain, kind="arrived", actor=actor, occurred_at=arrived_at,
                                  payload={"delivery": public_id, "case": case.code,
                                           "agency_id": case.agency_id,
                                           "document_type": request.document_type,
                                           "title": request.title, "document_sha256": digest,
                                           "consent_event": relied_on.event_hash}, head=head)
    delivery = Delivery(public_id=public_id, case_id=case.id, party_id=party.id,
                        agency_id=case.agency_id, document_type=request.document_type,
                        title=request.title, document_sha256=digest,
                        document_size=len(request.document), consent_id=relied_on.id,
                        idempotency_key=request.idempotency_key, request_sha256=fingerprint,
                        arrived_at=arrived_at, arrival_event_hash=event.hash)
    db.add(delivery)
    await db.flush()
    await jobs.enqueue_kinds(db, (TIMESTAMP_JOB, RECEIPT_JOB), delivery.id)
    await outbox.enqueue(db, event_id=f"arrived:{event.hash}", kind=Kind.DOCUMENT_ARRIVED,
                         party_id=party.id, renderer=renderer, now=arrived_at,
                         link=f"/mailbox/{public_id}", context={
                             "agency_name": agency.name,
                             "case_code": case_codes.display(case.code),
                             "document_type": request.document_type,
                             "document_title": request.title, "arrived_at": arrived_at})
    # the arrival may start the party's periods (FJ art. 19): register their reminders
    await case_followups.sync_case(db, case, renderer=renderer, now=arrived_at)
    return delivery_views.arrival_view(delivery, case, agency, party, relied_on)
