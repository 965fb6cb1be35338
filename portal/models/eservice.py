"""Electronic service: consent, deliveries (the mailbox), and what happened to each delivery.

Every row here records a legal act and is only ever inserted (DESIGN.md): a revocation is a
new row beside the consent it ends; a read, a timestamp, a receipt and a paper-copy request
are new rows beside the delivery. Each also has its event in the party's evidence chain
(``party:<id>``), whose hash it keeps, so the tables and the chain can be checked against
each other. ``Delivery.arrived_at`` is the service time (FJ art. 19; GD art. 30): the instant
the document became available in the party's mailbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.models.evidence import BigId
from portal.vocabulary import SCOPE_ALL


class PartyKey(Base):
    """A natural person's remote-signing key: certificate and the private key encrypted at rest."""

    __tablename__ = "party_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), unique=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    chain_der: Mapped[list[str]] = mapped_column(JSON)
    encrypted_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    pseudonym: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    signer_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    scope: Mapped[str] = mapped_column(String(16))
    agency_ids: Mapped[list[int]] = mapped_column(JSON)
    email_copy: Mapped[str | None] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(20))
    document_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))

    def covers(self, agency_id: int) -> bool:
        return self.scope == SCOPE_ALL or agency_id in self.agency_ids


class ConsentRevocation(Base):
    __tablename__ = "consent_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), unique=True)
    signer_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    document_sha256: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("agency_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_size: Mapped[int] = mapped_column(Integer)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    arrival_event_hash: Mapped[str] = mapped_column(String(64), unique=True)


class DeliveryRead(Base):
    __tablename__ = "delivery_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    reader_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class ArrivalTimestamp(Base):
    """The RFC 3161 token over the arrival event's hash: proof from a third party of when."""

    __tablename__ = "arrival_timestamps"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    token_der: Mapped[bytes] = mapped_column(LargeBinary)
    gen_time: Mapped[datetime] = mapped_column(UTCDateTime())
    tsa_name: Mapped[str] = mapped_column(String(300))
    event_hash: Mapped[str] = mapped_column(String(64))


class ServiceReceipt(Base):
    """The service receipt (送达回证): a PDF sealed and timestamped by the portal."""

    __tablename__ = "service_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaperCopyRequest(Base):
    """A party asked for a paper copy (Civil Procedure Law art. 90); the agency sees it."""

    __tablename__ = "paper_copy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    requester_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))
