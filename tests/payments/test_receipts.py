"""Fiscal e-receipts (FJ art. 20; GD art. 32): numbering, check codes, reversals, JSON and the PDF.

The PDF is read back with pypdf: one A4 page whose text carries the receipt's fields, a QR
code whose modules are exactly those of the verification URL, and the structured data as an
embedded ``receipt.json`` equal to `receipt_json`.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import pypdf
import pytest
import qrcode
from hypothesis import given
from hypothesis import strategies as st

from payments import (
    InvalidReceipt,
    Receipt,
    ReceiptIssuer,
    ReceiptKind,
    ReceiptNumberExhausted,
    ReceiptRef,
    fine_items,
    format_number,
    next_number,
    receipt_from_json,
    receipt_json,
    receipt_pdf,
    render_receipt_pdf,
)
from payments.receipts import CHECK_ALPHABET, MAX_NUMBER, ReceiptItem, check_code
from tests.pdf_objects import array

ISSUED = datetime(2026, 12, 9, 2, 15, tzinfo=UTC)  # 10:15 China time
ISSUER = ReceiptIssuer("35010124", "福州市市场监督管理局鼓楼分局", b"issuer-secret-0123456789")
VERIFY_URL = "https://portal.example.gov.cn/receipts/verify?c=35010124&n=0000000042&k=ABC"


def _receipt(number: int = 42, principal: int = 5000_00, surcharge: int = 600_00) -> Receipt:
    return ISSUER.issue(
        number,
        issued_at=ISSUED,
        payer_name="福州示例科技有限公司",
        payer_id="91350100MA2YXXXX1X",
        items=fine_items(principal, surcharge),
        platform_serial="SB2026120900000001",
        payment_code="35010026120900012345",
    )


# -- numbering -----------------------------------------------------------------------------


def test_numbers_start_at_one_and_follow_without_gaps() -> None:
    assert next_number(None) == 1
    assert next_number(41) == 42
    assert format_number(42) == "0000000042"
    assert format_number(MAX_NUMBER) == "9999999999"


def test_the_number_range_of_a_code_can_run_out() -> None:
    with pytest.raises(ReceiptNumberExhausted):
        next_number(MAX_NUMBER)


@pytest.mark.parametrize("last", [0, -1, True, 1.0, MAX_NUMBER + 1])
def test_nonsense_last_numbers_are_refused(last: object) -> None:
    with pytest.raises(InvalidReceipt):
        next_number(last)  # type: ignore[arg-type]


# -- the receipt value ------------------------------------------------------------------------


def test_a_receipt_has_code_number_check_code_and_totals_in_figures_and_capitals() -> None:
    receipt = _receipt()
    assert (receipt.code, receipt.number) == ("35010124", "0000000042")
    assert len(receipt.check_code) == 6 and set(receipt.check_code) <= set(CHECK_ALPHABET)
    assert [i.name for i in receipt.items] == ["罚没收入—罚款", "罚没收入—加处罚款"]
    assert (receipt.total_fen, receipt.total_yuan, receipt.total_capital) == (
        5600_00,
        "5,600.00",
        "伍仟陆佰元整",
    )
    assert receipt.issued_at_china.hour == 10 and receipt.kind is ReceiptKind.NORMAL


def test_a_fine_without_surcharge_has_one_item() -> None:
    assert [i.amount_fen for i in _receipt(surcharge=0).items] == [5000_00]


def test_the_check_code_is_deterministic_and_bound_to_code_number_total_and_date() -> None:
    receipt = _receipt()
    assert _receipt().check_code == receipt.check_code
    assert ISSUER.verifies(receipt)
    secret = ISSUER.secret
    base = check_code(secret, "35010124", "0000000042", 5600_00, ISSUED)
    assert base == receipt.check_code
    changed = [
        check_code(secret, "35010125", "0000000042", 5600_00, ISSUED),
        check_code(secret, "35010124", "0000000043", 5600_00, ISSUED),
        check_code(secret, "35010124", "0000000042", 5600_01, ISSUED),
        check_code(secret, "35010124", "0000000042", 5600_00, ISSUED + timedelta(days=1)),
        check_code(b"another-secret-0123456789", "35010124", "0000000042", 5600_00, ISSUED),
    ]
    assert base not in changed
    # Same China date, other time: same code (the date, not the instant, is bound).
    assert check_code(secret, "35010124", "0000000042", 5600_00, ISSUED + timedelta(hours=5)) == base


def test_a_receipt_with_an_altered_total_no_longer_verifies() -> None:
    receipt = _receipt()
    forged = replace(receipt, items=(ReceiptItem("罚没收入—罚款", 1_00),))
    assert not ISSUER.verifies(forged)
    assert not ISSUER.verifies(replace(receipt, code="35010199"))


@given(st.integers(min_value=1, max_value=MAX_NUMBER), st.integers(min_value=1, max_value=10**12))
def test_check_codes_always_have_six_characters_of_the_alphabet(number: int, total: int) -> None:
    code = check_code(b"s" * 16, "35010124", format_number(number), total, ISSUED)
    assert len(code) == 6 and set(code) <= set(CHECK_ALPHABET)


def test_a_refund_produces_a_red_letter_receipt_referencing_the_original() -> None:
    original = _receipt()
    reversal = ISSUER.reverse(original, 43, issued_at=ISSUED + timedelta(days=3), refund_serial="RF1")
    assert reversal.kind is ReceiptKind.REVERSAL
    assert reversal.original == ReceiptRef("35010124", "0000000042")
    assert reversal.number == "0000000043" and reversal.platform_serial == "RF1"
    assert [i.amount_fen for i in reversal.items] == [-5000_00, -600_00]
    assert reversal.total_fen + original.total_fen == 0
    assert reversal.total_capital == "负伍仟陆佰元整"
    assert ISSUER.verifies(reversal)
    with pytest.raises(InvalidReceipt):
        ISSUER.reverse(reversal, 44, issued_at=ISSUED)


class _ReceiptChanges(TypedDict, total=False):
    """The fields a malformed-receipt case replaces, typed as ``Receipt`` declares them."""

    code: str
    number: str
    check_code: str
    issued_at: datetime
    items: tuple[ReceiptItem, ...]
    payer_name: str
    kind: ReceiptKind
    original: ReceiptRef


@pytest.mark.parametrize(
    "changes",
    [
        {"code": "3501012"},
        {"number": "00000000x2"},
        {"check_code": "ABC"},
        {"check_code": "ABCDE0"},
        {"issued_at": ISSUED.replace(tzinfo=None)},
        {"items": ()},
        {"items": (ReceiptItem("罚款", -1),)},
        {"payer_name": " "},
        {"kind": ReceiptKind.REVERSAL},
        {"original": ReceiptRef("35010124", "0000000001")},
    ],
    ids=lambda c: next(iter(c)),
)
def test_malformed_receipts_are_refused(changes: _ReceiptChanges) -> None:
    with pytest.raises(InvalidReceipt):
        replace(_receipt(), **changes)


def test_an_issuer_needs_an_eight_digit_code_and_a_real_secret() -> None:
    with pytest.raises(InvalidReceipt):
        ReceiptIssuer("3501012A", "x", b"s" * 16)
    with pytest.raises(InvalidReceipt):
        ReceiptIssuer("35010124", "x", b"short")


def test_the_structured_data_round_trips() -> None:
    for receipt in (_receipt(), ISSUER.reverse(_receipt(), 43, issued_at=ISSUED)):
        raw = receipt_json(receipt)
        assert receipt_from_json(raw) == receipt
        data = json.loads(raw)
        assert data["schema"] == "payments.fiscal-receipt/1"
        assert (data["total_fen"], data["total_capital"]) == (receipt.total_fen, receipt.total_capital)


def test_structured_data_that_does_not_add_up_is_refused() -> None:
    data = json.loads(receipt_json(_receipt()))
    data["total_fen"] += 1
    with pytest.raises(InvalidReceipt):
        receipt_from_json(json.dumps(data).encode())
    with pytest.raises(InvalidReceipt):
        receipt_from_json(b'{"schema": "something else"}')


# -- the PDF --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf(cjk_font: Path) -> bytes:
    return render_receipt_pdf(_receipt(), VERIFY_URL, cjk_font)


def _text(pdf: bytes) -> str:
    """The page's text without blanks. pypdf reads fpdf2's embedded Identity CMap as one-byte
    codes and puts a NUL before every character (poppler's pdftotext reads it cleanly)."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return "".join(page.extract_text().replace("\x00", "").split())


def test_the_pdf_is_one_a4_page_with_the_receipts_fields(pdf: bytes) -> None:
    receipt = _receipt()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = _text(pdf)
    for expected in (
        "财政电子票据",
        "35010124",
        "0000000042",
        receipt.check_code,
        "2026-12-0910:15:00",
        "福州示例科技有限公司",
        "91350100MA2YXXXX1X",
        "35010026120900012345",
        "SB2026120900000001",
        "罚没收入—罚款",
        "5,000.00",
        "600.00",
        "伍仟陆佰元整",
        "¥5,600.00",
        "福州市市场监督管理局鼓楼分局",
        "扫码查验",
    ):
        assert expected in text, expected
    assert reader.metadata is not None and "0000000042" in (reader.metadata.title or "")


def test_the_pdf_embeds_the_structured_data_as_receipt_json(pdf: bytes) -> None:
    receipt = _receipt()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["receipt.json"]
    (data,) = reader.attachments["receipt.json"]
    assert data == receipt_json(receipt)
    assert receipt_from_json(data) == receipt
    names = array(reader.trailer, "/Root", "/Names", "/EmbeddedFiles", "/Names")
    spec = names[1].get_object()
    assert (
        spec["/AFRelationship"] == "/Data"
        and spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    )


def test_the_pdf_qr_code_encodes_the_verification_url(pdf: bytes) -> None:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    (image,) = page.images
    assert image.image is not None, "the QR code is drawn as an image Pillow reads"
    picture = image.image.convert("L")
    grey = picture.tobytes()  # mode "L": one byte a pixel, row after row
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(VERIFY_URL)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = picture.width / len(matrix)
    assert picture.width == picture.height and module == int(module)
    seen = [
        [
            grey[int((y + 0.5) * module) * picture.width + int((x + 0.5) * module)] < 128
            for x in range(len(matrix))
        ]
        for y in range(len(matrix))
    ]
    assert seen == matrix


def test_the_red_letter_pdf_says_so_and_names_the_original(cjk_font: Path) -> None:
    reversal = ISSUER.reverse(_receipt(), 43, issued_at=ISSUED)
    text = _text(render_receipt_pdf(reversal, VERIFY_URL, cjk_font))
    for expected in (
        "财政电子票据（红冲）",
        "35010124/0000000042",
        "-5,000.00",
        "负伍仟陆佰元整",
        "红字冲销",
    ):
        assert expected in text, expected


def test_rendering_is_reproducible(pdf: bytes, cjk_font: Path) -> None:
    assert render_receipt_pdf(_receipt(), VERIFY_URL, cjk_font) == pdf


def test_a_receipt_subset_from_the_common_cut_of_the_font_is_the_same_pdf(
        pdf: bytes, cjk_font: Path, tmp_path: Path) -> None:
    # the cut only makes subsetting cheaper (receipt_pdf.prepare_common_glyphs): a receipt is
    # the same bytes with it, and a name with a character outside it is drawn from the whole face
    rare_name = replace(_receipt(), payer_name="王喆")  # 喆: in Noto CJK, not in the cut
    whole_face = render_receipt_pdf(rare_name, VERIFY_URL, cjk_font)
    page = set(_text(pdf)) | set(_text(whole_face)) - {"喆"}
    characters = frozenset(map(ord, page)) | frozenset(range(0x20, 0x7F))
    assert not receipt_pdf.prepare_common_glyphs(cjk_font, tmp_path, cut=False, characters=characters)
    assert receipt_pdf.prepare_common_glyphs(cjk_font, tmp_path, characters=characters)
    assert len(list(tmp_path.iterdir())) == 1  # kept for the processes after this one
    assert receipt_pdf.prepare_common_glyphs(cjk_font, tmp_path, cut=False, characters=characters)
    assert render_receipt_pdf(_receipt(), VERIFY_URL, cjk_font) == pdf
    assert render_receipt_pdf(rare_name, VERIFY_URL, cjk_font) == whole_face
