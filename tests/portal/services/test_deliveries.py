"""Arrival is service, only under consent in force, all or nothing (FJ art. 19; GD art. 30;
APL art. 61; DESIGN.md "The central flow")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from portal.blobstore import BlobStore
from portal.blobstore.files import FileBlobStore
from portal.database import transaction
from portal.errors import ConsentMissing
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.jobs import Job
from portal.models.parties import Party
from portal.services import deliveries, evidence
from tests.builders import RENDERER, case_world, revoke_consent, sign_consent
from tests.conftest import Database


def _request(n: int = 1, key: str | None = None) -> deliveries.DeliveryRequest:
    return deliveries.DeliveryRequest("行政处罚决定书", f"行政处罚决定书 第{n}号",
                                      f"%PDF-1.7 document {n}".encode(), key)


async def _deliver(database: Database, blobs: BlobStore, case_id: int, party_id: int,
                   request: deliveries.DeliveryRequest) -> Delivery:
    async with transaction(database.sessions) as db:
        case = await db.get(Case, case_id)
        party = await db.get(Party, party_id)
        assert case is not None and party is not None
        return await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                                        fingerprint=request.fingerprint(case.code, "p"), actor="agency:1",
                                        renderer=RENDERER)


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_without_consent_nothing_is_stored(database: Database, tmp_path: Path) -> None:
    # FJ art. 19; APL art. 61: no signed consent, no e-service
    w = await case_world(database)
    with pytest.raises(ConsentMissing) as refused:
        await _deliver(database, FileBlobStore(tmp_path), w.case_id, w.party_id, _request())
    assert refused.value.code == "consent_required"
    assert await _count(database, Delivery) == 0 and await _count(database, Job) == 0


async def test_consent_for_another_agency_does_not_cover(database: Database, tmp_path: Path) -> None:
    w = await case_world(database)
    await sign_consent(database, w.party_id, agency_ids=[w.other_agency_id])
    with pytest.raises(ConsentMissing):
        await _deliver(database, FileBlobStore(tmp_path), w.case_id, w.party_id, _request())


async def test_arrival_is_recorded_with_event_jobs_and_blob(database: Database, tmp_path: Path) -> None:
    # FJ art. 19; GD art. 30: the service time is the arrival in the mailbox
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = FileBlobStore(tmp_path)
    delivery = await _deliver(database, blobs, w.case_id, w.party_id, _request())
    assert await blobs.get(delivery.document_sha256) == b"%PDF-1.7 document 1"
    async with database.sessions() as db:
        event = (await db.execute(text(
            "SELECT kind, occurred_at, hash FROM evidence_events WHERE hash = :h"),
            {"h": delivery.arrival_event_hash})).one()
        kinds = sorted((await db.execute(select(Job.kind))).scalars())
    assert event.kind == "arrived"
    assert kinds == sorted([deliveries.TIMESTAMP_JOB, deliveries.RECEIPT_JOB])


async def test_after_revocation_delivery_is_refused_and_earlier_service_stands(
        database: Database, tmp_path: Path) -> None:
    # APL art. 61: revocation is recorded and does not undo earlier service
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = FileBlobStore(tmp_path)
    first = await _deliver(database, blobs, w.case_id, w.party_id, _request(1))
    await revoke_consent(database, w.party_id)
    with pytest.raises(ConsentMissing) as refused:
        await _deliver(database, blobs, w.case_id, w.party_id, _request(2))
    assert refused.value.code == "consent_revoked"
    async with database.sessions() as db:
        assert (await db.get(Delivery, first.id)) is not None


async def test_200_concurrent_deliveries_with_revocation_midway(database: Database, tmp_path: Path) -> None:
    # each delivery arrived before the revocation or was refused;
    # none half-stored; the chain verifies.
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = FileBlobStore(tmp_path)

    async def one(n: int) -> str:
        if n == 100:
            await revoke_consent(database, w.party_id)
            return "revoked"
        try:
            await _deliver(database, blobs, w.case_id, w.party_id, _request(n))
        except ConsentMissing:
            return "refused"
        return "arrived"

    outcomes = await asyncio.gather(*(one(n) for n in range(200)))
    async with database.sessions() as db:
        chain = (await db.execute(text(
            "SELECT kind, occurred_at FROM evidence_events WHERE chain = :c ORDER BY seq"),
            {"c": f"party:{w.party_id}"})).all()
        stored = (await db.execute(select(func.count()).select_from(Delivery))).scalar_one()
        jobs_count = (await db.execute(select(func.count()).select_from(Job))).scalar_one()
        report = await evidence.verify_chains(db)
    kinds = [row.kind for row in chain]
    revoked_at = kinds.index("consent_revoked")
    assert "arrived" not in kinds[revoked_at:]  # nothing arrived after the revocation
    assert kinds.count("arrived") == outcomes.count("arrived") == stored
    assert outcomes.count("arrived") + outcomes.count("refused") == 199
    assert jobs_count == 2 * stored  # every stored delivery has its follow-up; no orphans
    assert report.ok


async def test_arrival_queues_the_party_notification_in_the_same_transaction(
        database: Database, tmp_path: Path) -> None:
    # notifications go through the outbox; the notice is not the service itself
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    delivery = await _deliver(database, FileBlobStore(tmp_path), w.case_id, w.party_id, _request())
    async with database.sessions() as db:
        rows = (await db.execute(text(
            "SELECT kind, channel, dedupe_key FROM outbox_messages WHERE party_id = :p ORDER BY id"),
            {"p": w.party_id})).all()
    assert [(r.kind, r.channel) for r in rows] == [("consent_signed", "inbox"), ("document_arrived", "inbox")]
    assert rows[1].dedupe_key.startswith(f"arrived:{delivery.arrival_event_hash}")


class _RevokedWhileStoring(FileBlobStore):
    """A store during whose ``put`` the party revokes consent (and that revocation commits)."""

    def __init__(self, root: Path, database: Database, party_id: int) -> None:
        super().__init__(root)
        self.database = database
        self.party_id = party_id

    async def put(self, data: bytes) -> str:
        digest = await super().put(data)
        await revoke_consent(self.database, self.party_id)
        return digest


async def test_a_revocation_while_the_document_is_stored_refuses_the_delivery(
        database: Database, tmp_path: Path) -> None:
    # APL art. 61: the document is stored before the party's chain is locked; consent read
    # before that does not count: a revocation committed meanwhile refuses the delivery
    if database.backend != "postgresql":
        pytest.skip("on SQLite the delivery's transaction holds the write lock from its start: "
                    "nothing else commits meanwhile")
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = _RevokedWhileStoring(tmp_path, database, w.party_id)
    with pytest.raises(ConsentMissing) as refused:
        await _deliver(database, blobs, w.case_id, w.party_id, _request())
    assert refused.value.code == "consent_revoked"
    assert await _count(database, Delivery) == 0 and await _count(database, Job) == 0
