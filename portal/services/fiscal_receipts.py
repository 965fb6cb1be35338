"""Fiscal e-receipts (财政电子票据): numbering, the sealed document, reversal, verification.

Issuing is two short transactions around the slow part (``workers.payments`` runs them):

1. ``number_receipt`` (or ``number_reversal``) locks the issuing unit's counter row with
   ``SELECT … FOR UPDATE``, takes the next number (`payments.next_number`) and inserts the
   receipt with its structured data in the same transaction. A rollback returns the number
   with the receipt, so numbers are unique and gap-free however many are issued at once
   (PITFALLS.md, "Gap-free numbers"); the counter is held only for that insert, not while the
   PDF is sealed. A payment has at most one receipt (unique), so a job run twice finds it.
2. ``record_documents`` stores the hashes of the sealed documents beside the receipt (one per
   configured format: the PAdES PDF, the GB/T 38540 OFD), appends the ``receipt_issued``
   event naming them and queues the party's notice. Until then the receipt is "being
   issued"; a worker that died in between finishes it on the next run.

Each agency is an issuing unit with one receipt code: ``RECEIPT_CODE_PREFIX`` followed by its
number (the finance department assigns real codes; a deployment sets the prefix). The check
code secret is derived from ``SECRET_KEY``.

Verification (the public page) answers a receipt only when code, number *and* check code all
match; "no such receipt" and "wrong check code" are the same answer (SECURITY.md 2.4.1).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import payments
from notifications import Kind, Renderer
from portal.cases import codes as case_codes
from portal.database import dialect_insert, get_existing, insert_ignoring
from portal.identifiers import masked_identifier
from portal.models.agencies import Agency
from portal.models.cases import Case
from portal.models.parties import Party
from portal.models.payments import Fine, PaymentRecord, Refund
from portal.models.receipts import (
    FiscalReceipt,
    ReceiptCounter,
    ReceiptDocument,
    ReceiptVerificationCount,
)
from portal.services import evidence, outbox
from portal.services.fines import chain_of, lock_fine

__all__ = ["ReceiptConfig", "count_verification", "documents_of", "find_receipt", "number_receipt",
           "number_reversal", "record_documents", "reversal_of", "verify_url"]


@dataclass(frozen=True)
class ReceiptConfig:
    """The issuing units' receipt-code prefix and the check-code key (``Settings.key
    ("receipt_check")``: its own key id, so rotating the session keys leaves printed check codes
    valid)."""

    code_prefix: str
    secret: bytes = b""


async def _receipt_code(db: AsyncSession, agency_id: int, prefix: str) -> str:
    code = (await db.execute(select(ReceiptCounter.code).where(
        ReceiptCounter.agency_id == agency_id))).scalar_one_or_none()
    if code is not None:
        return code
    if not 0 < agency_id < 10_000:
        raise payments.InvalidReceipt("an agency number must fit the 4 digits of its receipt code")
    code = f"{prefix}{agency_id:04d}"
    await db.execute(insert_ignoring(db, ReceiptCounter)
                     .values(code=code, agency_id=agency_id, last_number=0))
    return code


async def _next_number(db: AsyncSession, code: str) -> int:
    """Lock the code's counter until COMMIT and take its next number."""
    query = select(ReceiptCounter).where(ReceiptCounter.code == code).execution_options(
        populate_existing=True)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    counter = (await db.execute(query)).scalar_one()
    number = payments.next_number(counter.last_number or None)
    counter.last_number = number
    await db.flush()
    return number


async def _issuer(db: AsyncSession, fine: Fine, config: ReceiptConfig) -> payments.ReceiptIssuer:
    agency = await get_existing(db, Agency, fine.agency_id)
    return payments.ReceiptIssuer(await _receipt_code(db, agency.id, config.code_prefix), agency.name,
                                  config.secret)


async def _insert_receipt(db: AsyncSession, fine: Fine, receipt: payments.Receipt, *,
                          payment_id: int | None, original_id: int | None) -> FiscalReceipt:
    event = await evidence.append(db, chain=chain_of(fine), kind="receipt_numbered", actor="portal:receipts",
                                  occurred_at=receipt.issued_at, payload={
                                      "code": receipt.code, "number": receipt.number,
                                      "kind": receipt.kind.value, "total_fen": receipt.total_fen,
                                      "platform_serial": receipt.platform_serial,
                                      "original": receipt.original.number if receipt.original else None})
    row = FiscalReceipt(code=receipt.code, number=receipt.number, check_code=receipt.check_code,
                        kind=receipt.kind.value, fine_id=fine.id, payment_id=payment_id,
                        original_id=original_id, total_fen=receipt.total_fen, issued_at=receipt.issued_at,
                        data=payments.receipt_json(receipt).decode(), event_hash=event.hash)
    db.add(row)
    await db.flush()
    return row


async def number_receipt(db: AsyncSession, payment_id: int, config: ReceiptConfig, *,
                         now: datetime) -> FiscalReceipt | None:
    """The receipt of an applied payment, numbered now unless it already is; None for money
    that did not pay the fine (it gets a refund, not a receipt)."""
    existing = (await db.execute(select(FiscalReceipt).where(
        FiscalReceipt.payment_id == payment_id))).scalar_one_or_none()
    if existing is not None:
        return existing
    payment = await db.get(PaymentRecord, payment_id)
    if payment is None or not payment.applied:
        return None
    fine = await get_existing(db, Fine, payment.fine_id)
    party = await get_existing(db, Party, fine.party_id)
    issuer = await _issuer(db, fine, config)
    receipt = issuer.issue(await _next_number(db, issuer.code), issued_at=now, payer_name=party.name,
                           payer_id=masked_identifier(party.id_number or party.credit_code),
                           items=payments.fine_items(payment.principal_fen, payment.surcharge_fen),
                           platform_serial=payment.platform_serial, payment_code=fine.payment_code)
    return await _insert_receipt(db, fine, receipt, payment_id=payment.id, original_id=None)


async def number_reversal(db: AsyncSession, refund_id: int, config: ReceiptConfig, *,
                          now: datetime) -> FiscalReceipt | None:
    """The red-letter receipt (红冲) cancelling the refunded payment's receipt, if it had one."""
    refund = await get_existing(db, Refund, refund_id)
    original = (await db.execute(select(FiscalReceipt).where(
        FiscalReceipt.payment_id == refund.payment_id))).scalar_one_or_none()
    if original is None:
        return None
    existing = await reversal_of(db, original.id)
    if existing is not None:
        return existing
    fine = await get_existing(db, Fine, original.fine_id)
    issuer = await _issuer(db, fine, config)
    reversal = issuer.reverse(payments.receipt_from_json(original.data.encode()),
                              await _next_number(db, issuer.code), issued_at=now,
                              refund_serial=refund.refund_serial)
    return await _insert_receipt(db, fine, reversal, payment_id=None, original_id=original.id)


async def reversal_of(db: AsyncSession, receipt_id: int) -> FiscalReceipt | None:
    return (await db.execute(select(FiscalReceipt).where(
        FiscalReceipt.original_id == receipt_id))).scalar_one_or_none()


async def documents_of(db: AsyncSession, receipt_id: int) -> dict[str, ReceiptDocument]:
    """The receipt's sealed documents by format (``pdf``, ``ofd``); empty while being issued."""
    rows = (await db.execute(select(ReceiptDocument).where(ReceiptDocument.receipt_id == receipt_id)
                             .order_by(ReceiptDocument.id))).scalars()
    return {row.format: row for row in rows}


async def record_documents(db: AsyncSession, receipt_id: int, documents: dict[str, str], *,
                           now: datetime, renderer: Renderer) -> bool:
    """Attach the sealed documents (format → SHA-256) to the receipt, all at once and once,
    and tell the party; False if done before."""
    if not documents:
        raise RuntimeError("recording a receipt's documents takes at least one")
    row = await get_existing(db, FiscalReceipt, receipt_id)
    fine = await lock_fine(db, row.fine_id)
    if await documents_of(db, receipt_id):
        return False
    event = await evidence.append(db, chain=chain_of(fine), kind="receipt_issued", actor="portal:receipts",
                                  occurred_at=now, payload={"code": row.code, "number": row.number,
                                                            "documents": documents})
    db.add_all([ReceiptDocument(receipt_id=row.id, format=name, document_sha256=digest, sealed_at=now,
                                event_hash=event.hash) for name, digest in documents.items()])
    await db.flush()
    if row.kind == payments.ReceiptKind.NORMAL.value:
        case = await get_existing(db, Case, fine.case_id)
        agency = await get_existing(db, Agency, fine.agency_id)
        await outbox.enqueue(db, event_id=f"receipt:{row.id}", kind=Kind.RECEIPT_ISSUED,
                             party_id=fine.party_id, renderer=renderer, now=now,
                             link=f"/fines/{fine.public_id}", context={
                                 "case_code": case_codes.display(case.code), "agency_name": agency.name,
                                 "amount_fen": row.total_fen, "receipt_number": f"{row.code}-{row.number}"})
    return True


def verify_url(public_url: str, code: str, number: str, check_code: str) -> str:
    """What the receipt's QR code encodes: the public verification page, filled in."""
    query = urlencode({"code": code, "number": number, "check": check_code})
    return f"{public_url}/receipts/verify?{query}"


async def find_receipt(db: AsyncSession, code: str, number: str, check_code: str) -> FiscalReceipt | None:
    """The receipt when all three match, else None (one answer for both failures)."""
    row = (await db.execute(select(FiscalReceipt).where(
        FiscalReceipt.code == code, FiscalReceipt.number == number))).scalar_one_or_none()
    expected = row.check_code if row is not None else "------"
    matches = hmac.compare_digest(expected.encode(), check_code.strip().upper().encode()[:6].ljust(6))
    return row if row is not None and matches else None


async def count_verification(db: AsyncSession, receipt_id: int, *, now: datetime) -> int:
    """Count one more verification of the receipt; the new count."""
    statement = dialect_insert(db, ReceiptVerificationCount).values(
        receipt_id=receipt_id, count=1, last_at=now)
    upsert = statement.on_conflict_do_update(
        index_elements=["receipt_id"],
        set_={"count": ReceiptVerificationCount.count + 1, "last_at": now},
    )
    return int((await db.execute(upsert.returning(ReceiptVerificationCount.count))).scalar_one())
