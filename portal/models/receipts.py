"""Fiscal e-receipts (财政电子票据): numbering, the receipts themselves, their sealed documents and
how often each was verified.

- ``ReceiptCounter``: one row per receipt code, the last number used. The issuing transaction
  locks it with ``SELECT … FOR UPDATE``, takes the next number and inserts the receipt, so
  numbers are unique and gap-free: a rollback gives the number back with the receipt
  (PostgreSQL sequences would leave gaps: PITFALLS.md, "Gap-free numbers").
- ``FiscalReceipt``: a numbered receipt and its structured data (`payments.receipt_json`),
  insert-only. A normal receipt belongs to one payment (unique); a red-letter reversal (红冲)
  names the receipt it cancels in ``original_id`` (unique: one reversal per receipt).
- ``ReceiptDocument``: a sealed document of a receipt (its SHA-256 in the blob store), one
  per ``format`` (``pdf``: PAdES; ``ofd``: GB/T 38540), all added together by the worker
  after sealing; a receipt without any is "being issued".
- ``ReceiptVerificationCount``: a counter the public verification page increments; not a
  legal record, so it is the one row here that is updated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.models.evidence import BigId


class ReceiptCounter(Base):
    __tablename__ = "receipt_counters"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


class FiscalReceipt(Base):
    __tablename__ = "fiscal_receipts"
    __table_args__ = (UniqueConstraint("code", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(8))
    number: Mapped[str] = mapped_column(String(10))
    check_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(10))
    fine_id: Mapped[int] = mapped_column(ForeignKey("fines.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    original_id: Mapped[int | None] = mapped_column(ForeignKey("fiscal_receipts.id"), unique=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[str] = mapped_column(Text)
    event_hash: Mapped[str] = mapped_column(String(64))


class ReceiptDocument(Base):
    __tablename__ = "receipt_documents"
    __table_args__ = (UniqueConstraint("receipt_id", "format", name="uq_receipt_documents_receipt_format"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("fiscal_receipts.id"))
    format: Mapped[str] = mapped_column(String(3), server_default="pdf")
    document_sha256: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class ReceiptVerificationCount(Base):
    __tablename__ = "receipt_verification_counts"

    receipt_id: Mapped[int] = mapped_column(ForeignKey("fiscal_receipts.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
