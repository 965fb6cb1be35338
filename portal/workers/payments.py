"""Payment follow-up, done by workers after the payment committed: fiscal e-receipts.

* ``fiscal_receipt`` (subject: a payment): the receipt is numbered (gap-free, in a short
  transaction holding the counter), rendered in each configured format (``RECEIPT_FORMATS``):
  as PDF (`payments.render_receipt_pdf`: the fields, the total in capital numerals, a QR code
  to ``/receipts/verify``, the data as an embedded JSON file) sealed at PAdES B-LT, and as OFD
  (GB/T 33190: the same text, `payments.receipt_lines`, the QR code, the JSON as its attachment)
  sealed per GB/T 38540; the documents are stored, then recorded together with the
  ``receipt_issued`` event and the party's notice. The job row was written in the
  transaction that recorded the payment, so a crash anywhere after that commit leaves a due
  job: the next worker (after restart, or after the lease of a worker that died) finishes
  it, and finds the number already taken if the crash came after numbering. Exactly one
  receipt per payment, whatever happens.
* ``receipt_reversal`` (subject: a refund): the red-letter receipt (红冲) cancelling the
  refunded payment's receipt, the same way. It waits for the original when that is still
  being issued.

Rendering and sealing are CPU work: ``workers.receipt_documents`` does them in processes of
their own (``RECEIPT_PROCESSES``, one per core by default), and ``workers.runner`` runs as many
payment loops, so receipts are issued on every core; all database work stays here.

Sealing: the portal's seal (``Notary.seal``, and its GB/T 38540 seal, ``Notary.seal_ofd``,
for the OFD), the seals the portal holds in production; the receipt names the agency as the
issuing unit (开票单位). The seal sits over the issuing unit's line, as a paper seal would.

``JOBS`` maps each kind to its handler; ``workers.jobs`` claims, runs and retries them, as it
does for ``workers.eservice``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import payments
from notifications import Renderer
from portal.blobstore import BlobStore
from portal.database import get_existing, transaction, utcnow
from portal.documents.pdf import cjk_font
from portal.models.payments import PaymentRecord, Refund
from portal.models.receipts import FiscalReceipt
from portal.services import fiscal_receipts, outbox
from portal.services.fiscal_receipts import ReceiptConfig
from portal.services.payment_callbacks import RECEIPT_JOB
from portal.services.payment_orders import REVERSAL_JOB
from portal.settings import Settings
from portal.workers.jobs import JobKinds, NotYet
from portal.workers.receipt_documents import ReceiptPool, RenderProcessLost, Sealer, sealed_documents
from signing import SigningError


@dataclass(frozen=True)
class PaymentDeps:
    sessions: async_sessionmaker[AsyncSession]
    notary: Sealer
    blobs: BlobStore
    renderer: Renderer
    public_url: str
    receipts: ReceiptConfig
    formats: tuple[str, ...] = ("pdf",)
    font: Path | None = None
    pool: ReceiptPool | None = None
    """Where the documents are made; ``None``: in this process, sealed by ``notary``."""

    @property
    def font_path(self) -> Path:
        return self.font or cjk_font()[0]


def deps_for(settings: Settings, sessions: async_sessionmaker[AsyncSession], notary: Sealer,
             blobs: BlobStore, pool: ReceiptPool | None = None) -> PaymentDeps:
    """The deps from settings (``portal worker``, ``portal run``, tests)."""
    return PaymentDeps(sessions, notary, blobs, outbox.renderer_for(settings.public_url),
                       settings.public_url, ReceiptConfig(
                           settings.payments.receipt_code_prefix, settings.key("receipt_check")),
                       settings.payments.receipt_formats, pool=pool)


async def seal_and_store(deps: PaymentDeps, receipt_id: int) -> None:
    """Render, seal and store a numbered receipt's documents unless that was done already."""
    async with deps.sessions() as db:
        row = await get_existing(db, FiscalReceipt, receipt_id)
        if await fiscal_receipts.documents_of(db, receipt_id):
            return
    receipt = payments.receipt_from_json(row.data.encode())
    url = fiscal_receipts.verify_url(deps.public_url, row.code, row.number, row.check_code)
    if deps.pool is not None:
        sealed = await deps.pool.documents(receipt, url, deps.formats)
    else:
        sealed = await sealed_documents(deps.notary, receipt, url, deps.formats, deps.font_path)
    documents = {name: await deps.blobs.put(content) for name, content in sealed.items()}
    async with transaction(deps.sessions) as db:
        await fiscal_receipts.record_documents(db, receipt_id, documents, now=utcnow(),
                                               renderer=deps.renderer)


async def issue_receipt(deps: PaymentDeps, payment_id: int) -> None:
    async with transaction(deps.sessions) as db:
        row = await fiscal_receipts.number_receipt(db, payment_id, deps.receipts, now=utcnow())
        receipt_id = row.id if row is not None else None
    if receipt_id is not None:
        await seal_and_store(deps, receipt_id)


async def issue_reversal(deps: PaymentDeps, refund_id: int) -> None:
    async with transaction(deps.sessions) as db:
        row = await fiscal_receipts.number_reversal(db, refund_id, deps.receipts, now=utcnow())
        receipt_id = row.id if row is not None else None
        if row is None:
            refund = await db.get(Refund, refund_id)
            payment = await db.get(PaymentRecord, refund.payment_id) if refund else None
            if payment is not None and payment.applied:
                raise NotYet("the receipt to reverse is not numbered yet")
    if receipt_id is not None:
        await seal_and_store(deps, receipt_id)


JOBS = JobKinds[PaymentDeps](
    "payments",
    {RECEIPT_JOB: lambda deps, job: issue_receipt(deps, job.subject_id),
     REVERSAL_JOB: lambda deps, job: issue_reversal(deps, job.subject_id)},
    retry_on=(NotYet, SigningError, OSError, payments.ReceiptError, RenderProcessLost),
)
"""Run by ``portal worker`` and ``portal run`` (``workers.runner``); sealing or storing that
fails, a receipt the rules refuse, a rendering process that died twice, or a reversal waiting
for its original postpone a job."""
