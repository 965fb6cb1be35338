"""Benchmark of rendering the documents the portal issues, before and after sharing the font.

Run with ``.venv/bin/python bench/documents.py`` (about 20 s; skipped with a note when Debian's
fonts-noto-cjk is missing). For every kind of document — service receipt (送达回证),
submission receipt, fiscal e-receipt, verification report, e-service confirmation and its
revocation — it prints the median time to render one, unsealed:

* "add_font": fpdf2 parsing the font for every document (``FPDF.add_font``), as the portal
  did before the font was shared; this is the baseline;
* "shared": ``payments.receipt_pdf.add_cjk_font``, the face parsed once per process;

with the ratio, and whether both drew the same thing with the same glyphs
(``tests.portal.documents.equivalence``; they must). First the one-off cost of parsing the face
for the process is printed. The names in the samples hold a character outside the Basic
Multilingual Plane (𠮷, U+20BB7), which the font has.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from unittest import mock  # noqa: E402

from fpdf import FPDF  # noqa: E402

from bench.harness import sized  # noqa: E402
from payments import ReceiptIssuer, fine_items, receipt_pdf, render_receipt_pdf  # noqa: E402
from portal.catalogue.regulations import regulation  # noqa: E402
from portal.documents import pdf as document_pdf  # noqa: E402
from portal.documents.consent_confirmation import render_confirmation, render_revocation  # noqa: E402
from portal.documents.service_receipt import render_service_receipt  # noqa: E402
from portal.documents.submission_receipt import render_submission_receipt  # noqa: E402
from portal.documents.verification import render_report_pdf, report_view  # noqa: E402
from portal.models.agencies import Agency  # noqa: E402
from portal.models.cases import Case  # noqa: E402
from portal.models.eservice import ArrivalTimestamp, Consent, Delivery  # noqa: E402
from portal.models.parties import Party  # noqa: E402
from portal.models.rights import Submission, SubmissionAttachment  # noqa: E402
from portal.services.consent_views import ConfirmationContent  # noqa: E402
from portal.services.delivery_views import DeliveryView  # noqa: E402
from portal.services.submission_views import SubmissionView  # noqa: E402
from signing import (  # noqa: E402
    FontNotFound,
    KeySigner,
    SignatureSettings,
    VerificationContext,
    open_dev_pki,
    sign_pdf,
    verify_pdf,
)
from tests.portal.documents.equivalence import drawn  # noqa: E402
from tests.signing.sample_pdfs import make_pdf  # noqa: E402

NOW = datetime(2026, 12, 9, 2, 15, 30, 123456, tzinfo=UTC)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
AGENCY = "福州市鼓楼区市场监督管理局"


FUJIAN = regulation("fujian")

def _plain_add_font(pdf: FPDF, family: str, font_path: Path) -> None:
    """What the portal did before: fpdf2 parses the face for every document."""
    face = receipt_pdf.simplified_chinese_face(font_path)
    pdf.add_font(family, fname=str(font_path), collection_font_number=face)


def _views() -> tuple[DeliveryView, SubmissionView]:
    agency = Agency(name=AGENCY)
    party = Party(name="张𠮷", id_number="35010219850312123X", credit_code=None)
    case = Case(code="3501020000001234", agency_case_number="榕鼓市监罚〔2026〕123号")
    delivery = Delivery(title="行政处罚决定书", document_type="行政处罚决定书", document_sha256=SHA,
                        arrived_at=NOW, arrival_event_hash=SHA)
    consent = Consent(signed_at=NOW - timedelta(days=30), document_sha256=SHA)
    stamp = ArrivalTimestamp(tsa_name="开发测试时间戳服务", gen_time=NOW + timedelta(seconds=3))
    delivery_view = DeliveryView(delivery=delivery, case=case, agency=agency, party=party,
                                 consent=consent, read=None, paper_copy=None, timestamp=stamp,
                                 receipt=None)
    submission = Submission(public_id="S2026120900000001", kind="statement", window_kind="statement",
                            window_last_day=date(2026, 12, 14), content_sha256=SHA, event_hash=SHA,
                            submitted_at=NOW, content={"text": "本人对处罚决定认定的事实有异议。" * 8})
    attachments = tuple(SubmissionAttachment(position=n, media_type="application/pdf", size=123_456,
                                             document_sha256=SHA) for n in (1, 2))
    submission_view = SubmissionView(submission=submission, case=case, agency=agency, party=party,
                                     submitter=party, attachments=attachments, receipt=None,
                                     acknowledgement=None)
    return delivery_view, submission_view


def _report() -> dict[str, object]:
    """A real verification report: a 1-page decision sealed by a development agency seal."""
    pki = open_dev_pki(Path(tempfile.mkdtemp(prefix="bench-documents-")) / "pki")
    seal = KeySigner.from_credential(pki.agency_seal(AGENCY, "11350102MB0000001X"))
    sealed = sign_pdf(make_pdf(1), seal, SignatureSettings())
    return verify_pdf(sealed, VerificationContext(trust=pki.trust_settings())).to_json_dict()


def _documents(font: Path) -> dict[str, Callable[[], bytes]]:
    delivery, submission = _views()
    issuer = ReceiptIssuer("35010124", AGENCY, b"bench-secret-0123456789")
    receipt = issuer.issue(42, issued_at=NOW, payer_name="张𠮷", payer_id="35010219850312123X",
                           items=fine_items(5000_00, 600_00), platform_serial="SB2026120900000001",
                           payment_code="35010026120900012345")
    report = report_view(_report(), expires_at=NOW + timedelta(days=1))
    content = ConfirmationContent(party_name="张𠮷", party_kind="person",
                                  party_identifier="350102********123X", signer_name="张𠮷",
                                  agency_names=(), email_copy=None, on=NOW.date(), regulation=FUJIAN)
    return {
        "service receipt": lambda: render_service_receipt(delivery, issued_at=NOW, regulation=FUJIAN)[0],
        "submission receipt": lambda: render_submission_receipt(submission, issued_at=NOW)[0],
        "fiscal e-receipt": lambda: render_receipt_pdf(receipt, "https://portal.example/r?k=1", font),
        "verification report": lambda: render_report_pdf(report, created_at=NOW)[0],
        "e-service confirmation": lambda: render_confirmation(content, created_at=NOW)[0],
        "its revocation": lambda: render_revocation(content, revoked_consent=("2026-11-09", SHA),
                                                    created_at=NOW)[0],
    }


def median_ms(action: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    """Median wall time of ``action`` in milliseconds after one warm-up call (the only call in
    smoke mode, whose figure is then that call's), and its output."""
    started = time.perf_counter()
    output = action()
    times = [time.perf_counter() - started]
    for _ in range(sized(repeat, 0)):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:] or times) * 1000, output


def main() -> None:
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # one line per subset otherwise
    try:
        font, _face = document_pdf.cjk_font()
    except FontNotFound as exc:
        print(f"documents: skipped, no CJK font ({exc}; make test installs fonts-noto-cjk)")
        return
    documents = _documents(font)
    started = time.perf_counter()
    receipt_pdf.add_cjk_font(FPDF(), "warm-up", font)
    print(f"Parsing the face once per process ({font.name}): {(time.perf_counter() - started) * 1000:.0f} ms")
    print("\nRendering one document, unsealed (median)")
    print(f"  {'document':<24} {'add_font':>10} {'shared':>10} {'ratio':>7}  same drawing")
    ratios = []
    for name, render in documents.items():
        with mock.patch.object(receipt_pdf, "add_cjk_font", _plain_add_font), \
                mock.patch.object(document_pdf, "add_cjk_font", _plain_add_font):
            before, expected = median_ms(render, 2)
        after, output = median_ms(render, 5)
        ratios.append(before / after)
        same = drawn(output) == drawn(expected)
        print(f"  {name:<24} {before:7.0f} ms {after:7.0f} ms {before / after:6.1f}x  {same}")
    print(f"  {'geometric mean':<24} {'':>10} {'':>10} {statistics.geometric_mean(ratios):6.1f}x")


if __name__ == "__main__":
    main()
