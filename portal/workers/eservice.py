"""Follow-up of a delivery, done by workers after the arrival committed.

* ``arrival_timestamp``: an RFC 3161 token over the arrival event's hash, from the TSA, then
  a ``timestamped`` event in the party's chain. While the TSA is down the job is retried with
  back-off; the delivery and its service time stand meanwhile.
* ``service_receipt``: the 送达回证 rendered, sealed by the portal at PAdES B-LT, stored, and a
  ``receipt_issued`` event. It waits (briefly) for the arrival timestamp so the receipt can
  state it, but never for long: after a few tries it is issued without, saying so.

Each handler checks first whether its work is already done, so running a job twice (a worker
killed after the work but before marking the job done) changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.blobstore import BlobStore
from portal.catalogue import SERVICE_RECEIPT
from portal.catalogue.regulations import REGULATIONS, Regulation
from portal.database import transaction, utcnow
from portal.documents.service_receipt import render_service_receipt
from portal.models.eservice import ArrivalTimestamp, Delivery, ServiceReceipt
from portal.notary import Notary
from portal.services import consent, delivery_views, evidence
from portal.services.deliveries import RECEIPT_JOB, TIMESTAMP_JOB
from portal.workers.jobs import JobKinds, NotYet
from signing import SigningError, async_timestamp_hash

RECEIPT_WAITS_FOR_TIMESTAMP = 3  # attempts


@dataclass(frozen=True)
class EserviceDeps:
    sessions: async_sessionmaker[AsyncSession]
    notary: Notary
    blobs: BlobStore
    regulation: Regulation = REGULATIONS["fujian"]
    """The province's regulation the service receipt cites (``PORTAL_PROVINCE``)."""


async def timestamp_arrival(deps: EserviceDeps, delivery_id: int) -> None:
    async with deps.sessions() as db:
        delivery = await db.get(Delivery, delivery_id)
        done = await _exists(db, ArrivalTimestamp, delivery_id)
    if delivery is None or done:
        return
    services = await deps.notary.services()
    token = await async_timestamp_hash(services.timestamps, bytes.fromhex(delivery.arrival_event_hash))
    async with transaction(deps.sessions) as db:
        chain = consent.party_chain(delivery.party_id)
        await evidence.lock(db, chain)
        if await _exists(db, ArrivalTimestamp, delivery_id):
            return
        event = await evidence.append(db, chain=chain, kind="timestamped", actor="portal:tsa", payload={
            "delivery": delivery.public_id, "arrival_event": delivery.arrival_event_hash,
            "tsa": token.tsa_name, "gen_time": token.gen_time.isoformat(),
            "token_sha256": hashlib.sha256(token.token).hexdigest()})
        db.add(ArrivalTimestamp(delivery_id=delivery_id, token_der=token.token, gen_time=token.gen_time,
                                tsa_name=token.tsa_name, event_hash=event.hash))


async def issue_receipt(deps: EserviceDeps, delivery_id: int, attempt: int) -> None:
    async with deps.sessions() as db:
        delivery = await db.get(Delivery, delivery_id)
        if delivery is None or await _exists(db, ServiceReceipt, delivery_id):
            return
        view = await delivery_views.agency_view(db, delivery)
    if view.timestamp is None and attempt <= RECEIPT_WAITS_FOR_TIMESTAMP:
        raise NotYet("waiting for the arrival timestamp")
    issued_at = utcnow()
    unsealed, placement = await asyncio.to_thread(render_service_receipt, view, issued_at=issued_at,
                                                  regulation=deps.regulation)
    sealed = await deps.notary.seal(unsealed, placement, reason=SERVICE_RECEIPT["seal_reason"])
    digest = await deps.blobs.put(sealed)
    async with transaction(deps.sessions) as db:
        chain = consent.party_chain(delivery.party_id)
        await evidence.lock(db, chain)
        if await _exists(db, ServiceReceipt, delivery_id):
            return
        await evidence.append(db, chain=chain, kind="receipt_issued", actor="portal", payload={
            "delivery": delivery.public_id, "receipt_sha256": digest})
        db.add(ServiceReceipt(delivery_id=delivery_id, document_sha256=digest, issued_at=issued_at))


JOBS = JobKinds[EserviceDeps](
    "eservice",
    {TIMESTAMP_JOB: lambda deps, job: timestamp_arrival(deps, job.subject_id),
     RECEIPT_JOB: lambda deps, job: issue_receipt(deps, job.subject_id, job.attempt)},
    retry_on=(NotYet, SigningError, OSError),
)
"""Run by ``portal worker`` and ``portal run`` (``workers.runner``); a TSA that is down, a
blob store that cannot write, or a receipt still waiting for its timestamp postpone a job."""


async def _exists(db: AsyncSession, model: type[ArrivalTimestamp] | type[ServiceReceipt],
                  delivery_id: int) -> bool:
    found = await db.execute(select(model.id).where(model.delivery_id == delivery_id))
    return found.first() is not None
