"""After arrival: the RFC 3161 timestamp over the arrival event and the sealed service receipt
(送达回证), done by workers, retried while the TSA is down, safe to run twice (LAW.md "Electronic
service": the service time is the arrival; FJ art. 19; GD art. 30)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from portal.blobstore import BlobStore
from portal.blobstore.files import FileBlobStore
from portal.database import transaction
from portal.models.cases import Case
from portal.models.eservice import ArrivalTimestamp, Delivery, ServiceReceipt
from portal.models.jobs import Job
from portal.models.parties import Party
from portal.notary import Notary, dev_pki_dir, development_services
from portal.services import deliveries, delivery_views, evidence
from portal.workers.eservice import JOBS, EserviceDeps
from signing import TimestampUnavailable, async_verify_timestamp
from tests.builders import RENDERER, case_world, sign_consent
from tests.conftest import Database


class DownTsa:
    """A time-stamping authority that does not answer."""

    name = "down"

    def timestamper(self) -> object:
        raise TimestampUnavailable("TSA down")


def _deps(database: Database, data_dir: Path, *, tsa_down: bool = False) -> EserviceDeps:
    services = development_services(dev_pki_dir(data_dir))
    if tsa_down:
        services = dataclasses.replace(services, timestamps=DownTsa())  # type: ignore[arg-type]
    return EserviceDeps(database.sessions, Notary(lambda: services), FileBlobStore(data_dir / "blobs"))


async def _delivered(database: Database, blobs: BlobStore) -> Delivery:
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    request = deliveries.DeliveryRequest("行政处罚决定书", "榕市监罚〔2026〕7号", b"%PDF-1.7 decision", None)
    async with transaction(database.sessions) as db:
        case = await db.get(Case, w.case_id)
        party = await db.get(Party, w.party_id)
        assert case and party
        return await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                                        fingerprint="f" * 64, actor="agency:1", renderer=RENDERER)


async def test_timestamp_and_receipt_are_issued_and_verify(database: Database, data_dir: Path) -> None:
    deps = _deps(database, data_dir)
    delivery = await _delivered(database, deps.blobs)
    assert await JOBS.run_due(deps) == 2
    async with database.sessions() as db:
        stamp = (await db.execute(select(ArrivalTimestamp))).scalar_one()
        receipt = (await db.execute(select(ServiceReceipt))).scalar_one()
        kinds = (await db.execute(text("SELECT kind FROM evidence_events ORDER BY id"))).scalars().all()
        view = await delivery_views.agency_view(db, delivery)
        assert (await evidence.verify_chains(db)).ok
    # the token is over the arrival event's hash, from a TSA the portal trusts
    services = await deps.notary.services()
    await async_verify_timestamp(stamp.token_der, bytes.fromhex(delivery.arrival_event_hash),
                                 services.trust)
    assert kinds[-3:] == ["arrived", "timestamped", "receipt_issued"]
    # the receipt is sealed by the portal and accepted by a PAdES validator
    pdf = await deps.blobs.get(receipt.document_sha256)
    report = await deps.notary.verify(pdf)
    assert report.passed, report.summary
    pages = PdfReader(io.BytesIO(pdf)).pages
    text_of_pdf = "".join("".join(page.extract_text().split()) for page in pages).replace("\x00", "")
    assert view.to_json()["service_time"] in text_of_pdf
    assert delivery.document_sha256 in text_of_pdf and delivery.arrival_event_hash in text_of_pdf
    await deps.notary.aclose()


async def test_tsa_down_delivery_stands_and_job_retries(database: Database, data_dir: Path) -> None:
    down = _deps(database, data_dir, tsa_down=True)
    delivery = await _delivered(database, down.blobs)
    await JOBS.run_due(down)
    async with database.sessions() as db:
        job = (await db.execute(select(Job).where(Job.kind == deliveries.TIMESTAMP_JOB))).scalar_one()
        assert not job.done and job.last_error == "TimestampUnavailable" and job.attempts == 1
        assert (await db.get(Delivery, delivery.id)) is not None  # the service stands
        await db.execute(text("UPDATE jobs SET next_attempt_at = :t"), {"t": job.created_at})
        await db.commit()
    up = _deps(database, data_dir)
    await JOBS.run_due(up)
    async with database.sessions() as db:
        assert (await db.execute(select(ArrivalTimestamp))).scalar_one().delivery_id == delivery.id


@pytest.mark.parametrize("handler", ["timestamp", "receipt"])
async def test_running_a_job_twice_changes_nothing(database: Database, data_dir: Path, handler: str) -> None:
    from portal.workers import eservice

    deps = _deps(database, data_dir)
    delivery = await _delivered(database, deps.blobs)
    await JOBS.run_due(deps)
    if handler == "timestamp":
        await eservice.timestamp_arrival(deps, delivery.id)
    else:
        await eservice.issue_receipt(deps, delivery.id, attempt=99)
    async with database.sessions() as db:
        counts = (await db.execute(text(
            "SELECT (SELECT count(*) FROM arrival_timestamps), (SELECT count(*) FROM service_receipts), "
            "(SELECT count(*) FROM evidence_events WHERE kind IN ('timestamped', 'receipt_issued'))"
        ))).one()
    assert tuple(counts) == (1, 1, 2)
