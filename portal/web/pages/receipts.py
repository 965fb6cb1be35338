"""Public verification of a fiscal e-receipt: ``/receipts/verify``.

Anyone holding a receipt (the payer, an auditor, the payer's employer) can check it without
logging in, by typing its code, number and check code, or by scanning its QR code, whose link
carries the same three values (no personal data). The answer shows the receipt's data as
issued, whether each sealed document the portal holds of it — the PAdES PDF and the OFD
sealed per GB/T 38540, as ``RECEIPT_FORMATS`` issued it — still validates (``Notary.verify``,
one verifier for both, in a worker process; fail closed), whether it was reversed by a
red-letter receipt (红冲), and how many times it has been verified — this verification
included. Counting on a GET is deliberate:
a QR scan is a GET, and the count is a statistic about the receipt, not anyone's state.

Limited per client (ASVS v5.0.0-2.4.1): the check code's 30 bits make guessing hopeless within
the limit. A receipt that does not exist and one whose check code does not match get one and
the same answer (404, same page), so the page never tells which numbers exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

import payments
from portal.blobstore import BlobCorrupted, BlobMissing
from portal.database import transaction
from portal.models.receipts import FiscalReceipt, ReceiptDocument
from portal.services import fiscal_receipts, rate_limits
from portal.services.fiscal_receipts import ReceiptConfig
from portal.web.client import client_key, enforce
from portal.web.clock import request_now
from portal.web.rendering import render

RECEIPT_VERIFICATIONS = rate_limits.Limit("receipt_verify", requests=20, window_seconds=60)
_HEADERS = {"x-robots-tag": "noindex"}


def _typed(request: Request) -> dict[str, str]:
    """What was asked, trimmed to the fields' lengths (echoed back into the form)."""
    query = request.query_params
    return {"code": (query.get("code") or "").strip()[:8], "number": (query.get("number") or "").strip()[:10],
            "check": (query.get("check") or "").strip().upper()[:6]}


def _well_formed(typed: dict[str, str]) -> bool:
    return (len(typed["code"]) == 8 and typed["code"].isdigit() and len(typed["number"]) == 10
            and typed["number"].isdigit() and len(typed["check"]) == 6 and typed["check"].isalnum())


async def verify(request: Request) -> Response:
    typed = _typed(request)
    if not any(key in request.query_params for key in ("code", "number", "check")):
        return render(request, "pages/receipts/verify.html", {"typed": typed}, headers=_HEADERS)
    await enforce(request, RECEIPT_VERIFICATIONS)
    found: FiscalReceipt | None = None
    async with transaction(request.app.state.sessions) as db:
        if _well_formed(typed):
            found = await fiscal_receipts.find_receipt(db, typed["code"], typed["number"], typed["check"])
        if found is None:
            return render(request, "pages/receipts/verify.html", {"typed": typed, "not_found": True},
                          status=404, headers=_HEADERS)
        count = await fiscal_receipts.count_verification(db, found.id, now=request_now(request))
        documents = await fiscal_receipts.documents_of(db, found.id)
        reversal = await fiscal_receipts.reversal_of(db, found.id)
        original = await db.get(FiscalReceipt, found.original_id) if found.original_id else None
    receipt = payments.receipt_from_json(found.data.encode())
    settings = request.app.state.settings
    config = ReceiptConfig(settings.payments.receipt_code_prefix, settings.key("receipt_check"))
    issuer = payments.ReceiptIssuer(receipt.code, receipt.issuer, config.secret)
    return render(request, "pages/receipts/verify.html", {
        "typed": typed, "receipt": receipt, "row": found, "count": count, "reversal": reversal,
        "original": original, "seals": await _seal_states(request, documents),
        "check_code_ok": issuer.verifies(receipt),
    }, headers=_HEADERS)


async def _seal_states(request: Request, documents: dict[str, ReceiptDocument]) -> dict[str, str]:
    """Per document format, ``valid`` | ``invalid`` | ``damaged`` (stored bytes changed);
    empty while the receipt is being issued (not sealed yet)."""
    return {name: await _seal_state(request, document) for name, document in documents.items()}


async def _seal_state(request: Request, document: ReceiptDocument) -> str:
    try:
        data = bytes(await request.app.state.blobs.get(document.document_sha256))
    except (BlobCorrupted, BlobMissing, OSError):
        return "damaged"
    report = await request.app.state.notary.verify(data, client=client_key(request))
    return "valid" if report.passed else "invalid"
