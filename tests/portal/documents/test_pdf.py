"""The Chinese document builder and its shared font (``payments.receipt_pdf.add_cjk_font``).

The font is parsed once per process and copied into each document; a document must come out
as ``FPDF.add_font`` would make it (``equivalence.drawn``), whatever the text: rare characters
outside the Basic Multilingual Plane included, and characters the face lacks, drawn from the
fallback face (shared the same way) or shown as their code point
(``test_rare_characters``). Documents rendered at once in several threads are the ones
rendered one after the other.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from fpdf import FPDF

from payments import receipt_pdf
from portal.documents import pdf as document_pdf
from portal.documents.pdf import CjkDocument, cjk_font
from signing import FontNotFound
from tests.conftest import font_missing
from tests.portal.documents.equivalence import drawn

CREATED = datetime(2026, 12, 9, 2, 15, tzinfo=UTC)
RARE = "𠮷𡈼𨺙"  # in Noto Sans CJK SC, outside the BMP (surrogate pairs in ToUnicode)
ABSENT = "\U0002a6a5\U00030000"  # 𪚥 (Ext. B, in the fallback face) and 𰀀 (Ext. G, in no font)


@pytest.fixture(scope="module")
def font() -> Path:
    try:
        return cjk_font()[0]
    except FontNotFound:
        font_missing("fonts-noto-cjk")


def _document(name: str) -> bytes:
    document = CjkDocument("送达回证", created_at=CREATED, footer="第 {page} 页，共 {pages} 页")
    document.heading("送达回证")
    document.paragraph(f"受送达人{name}于二〇二六年十二月九日收到行政处罚决定书。")
    document.key_values([("受送达人", name), ("证件号码", "35010219850312123X")])
    document.table(("项目", "金额"), [("罚没收入—罚款", "¥5,000.00")], widths=(3, 1))
    document.reserve_seal()
    return document.output()


def _plain_add_font(pdf: FPDF, family: str, font_path: Path) -> None:
    """Before the font was shared: fpdf2 parses the face (and the fallback face) for every
    document."""
    face = receipt_pdf.simplified_chinese_face(font_path)
    pdf.add_font(family, fname=str(font_path), collection_font_number=face)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages)


@pytest.mark.parametrize("name", ["张三", f"王{RARE}", f"李{ABSENT}四"])
def test_a_document_with_the_shared_font_is_the_one_fpdf2_makes(
        font: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = _document(name)
    with monkeypatch.context() as patched:
        patched.setattr(document_pdf, "add_cjk_font", _plain_add_font)
        patched.setattr(receipt_pdf, "add_cjk_font", _plain_add_font)  # the fallback face's
        plain = _document(name)
    assert drawn(shared) == drawn(plain)


def test_rare_characters_are_drawn_and_extractable(font: Path) -> None:
    text = _text(_document(f"王{RARE}"))
    assert f"受送达人王{RARE}" in text and "¥5,000.00" in text


def test_documents_rendered_in_threads_are_those_rendered_in_turn(font: Path) -> None:
    names = [f"张{(RARE + ABSENT)[i % 5]}{i}" for i in range(10)]
    in_turn = [_document(name) for name in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(_document, names))
    assert at_once == in_turn


def test_two_documents_do_not_share_what_output_changes(font: Path) -> None:
    first, second = FPDF(), FPDF()
    receipt_pdf.add_cjk_font(first, "cjk", font)
    receipt_pdf.add_cjk_font(second, "cjk", font)
    one, other = first.fonts["cjk"], second.fonts["cjk"]
    assert one is not other and one.cmap is other.cmap  # type: ignore[union-attr]
    for attribute in ("ttfont", "subset", "cw", "desc", "missing_glyphs"):
        assert getattr(one, attribute) is not getattr(other, attribute), attribute
    assert first.pdf_version == "1.6"
