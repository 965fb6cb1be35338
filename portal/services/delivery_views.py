"""What a delivery looks like to the agency and to the party: one value object for both.

Gathers the delivery with what followed it (read, paper-copy request, arrival timestamp,
service receipt) and the consent it relied on, so the API answer, the mailbox page and the
service receipt all state the same facts from the same query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.blobstore import BlobStore
from portal.errors import Conflict
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.eservice import (
    ArrivalTimestamp,
    Consent,
    Delivery,
    DeliveryRead,
    PaperCopyRequest,
    ServiceReceipt,
)
from portal.models.parties import Party

CHINA = ZoneInfo("Asia/Shanghai")
RECEIPT_RETRY_SECONDS = 5


class ReceiptPending(Conflict):
    """The service receipt is not issued yet; ask again shortly."""

    def __init__(self) -> None:
        super().__init__(code="receipt_pending")
        self.retry_after = RECEIPT_RETRY_SECONDS


def utc_text(instant: datetime) -> str:
    """RFC 3339 in UTC with microseconds: the service time is stated exactly."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def china_text(instant: datetime) -> str:
    return instant.astimezone(CHINA).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class DeliveryView:
    delivery: Delivery
    case: Case
    agency: Agency
    party: Party
    consent: Consent
    read: DeliveryRead | None
    paper_copy: PaperCopyRequest | None
    timestamp: ArrivalTimestamp | None
    receipt: ServiceReceipt | None

    def to_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "delivery_id": d.public_id,
            "case_code": self.case.code,
            "document_type": d.document_type,
            "title": d.title,
            "document_sha256": d.document_sha256,
            "service_time": utc_text(d.arrived_at),
            "service_time_china": china_text(d.arrived_at),
            "arrival_event_hash": d.arrival_event_hash,
            "consent": {"signed_at": utc_text(self.consent.signed_at),
                        "event_hash": self.consent.event_hash},
            "read_at": utc_text(self.read.read_at) if self.read else None,
            "paper_copy_requested_at":
                utc_text(self.paper_copy.requested_at) if self.paper_copy else None,
            "timestamp": {"gen_time": utc_text(self.timestamp.gen_time), "tsa": self.timestamp.tsa_name}
            if self.timestamp else None,
            "receipt": {"status": "issued" if self.receipt else "pending",
                        "url": f"/api/v1/deliveries/{d.public_id}/receipt"},
        }


async def _one(db: AsyncSession, model: Any, delivery_id: int) -> Any:
    return (await db.execute(select(model).where(model.delivery_id == delivery_id))).scalar_one_or_none()


async def agency_view(db: AsyncSession, delivery: Delivery) -> DeliveryView:
    """The delivery with its case, agency, party and consent (which foreign keys guarantee)
    and whatever followed it, in one query: every answer to the agency reads it."""
    row = (await db.execute(
        select(Case, Agency, Party, Consent, DeliveryRead, PaperCopyRequest, ArrivalTimestamp,
               ServiceReceipt)
        .select_from(Delivery)
        .join(Case, Case.id == Delivery.case_id)
        .join(Agency, Agency.id == Delivery.agency_id)
        .join(Party, Party.id == Delivery.party_id)
        .join(Consent, Consent.id == Delivery.consent_id)
        .outerjoin(DeliveryRead, DeliveryRead.delivery_id == Delivery.id)
        .outerjoin(PaperCopyRequest, PaperCopyRequest.delivery_id == Delivery.id)
        .outerjoin(ArrivalTimestamp, ArrivalTimestamp.delivery_id == Delivery.id)
        .outerjoin(ServiceReceipt, ServiceReceipt.delivery_id == Delivery.id)
        .where(Delivery.id == delivery.id)
    )).one_or_none()
    if row is None:
        raise RuntimeError(f"delivery {delivery.id!r} or a row it refers to is missing")
    return DeliveryView(delivery, *row)


def arrival_view(delivery: Delivery, case: Case, agency: Agency, party: Party,
                 consent: Consent) -> DeliveryView:
    """The view of a delivery made in the current transaction, before its commit: the same
    facts as ``agency_view`` from the rows that transaction wrote and read, without a query;
    nothing can have followed it yet (read, paper copy, timestamp, receipt), as no other
    transaction sees the delivery before the commit."""
    return DeliveryView(delivery, case, agency, party, consent, None, None, None, None)


async def receipt_pdf(db: AsyncSession, blobs: BlobStore, delivery: Delivery) -> bytes:
    receipt = await _one(db, ServiceReceipt, delivery.id)
    if receipt is None:
        raise ReceiptPending()
    return await blobs.get(receipt.document_sha256)
