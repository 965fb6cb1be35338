"""Characters Noto Sans CJK SC lacks: drawn from the fallback face, or shown as code points.

A party's name must come out whole on a document that is sealed and filed. 𪚥 (U+2A6A5) and
the other characters of CJK Extensions B–F that Noto lacks are drawn from Debian's
fonts-hanazono (HanaMinB, then HanaMinA), embedded only in a document that uses it; a
character in no installed font — or a private-use one, whatever a face maps there — shows as
``[U+XXXXX]`` and is reported in the log by code point, never with the text around it.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from fpdf import FPDF

from payments import ReceiptIssuer, fine_items, receipt_pdf, render_receipt_pdf
from portal.documents.pdf import CjkDocument, cjk_font
from signing import FontNotFound
from tests.conftest import font_missing
from tests.pdf_objects import dictionary

CREATED = datetime(2026, 12, 9, 2, 15, tzinfo=UTC)
EXT_B = "\U0002a6a5\U0002a6a4"  # 𪚥𪚤: Extension B, in HanaMinB, not in Noto
EXT_F = "\U0002ceb0"  # 𬺰: Extension F, in HanaMinB only
COMPATIBILITY = "\U0002f800"  # 丽: a compatibility ideograph, in HanaMinA only
EXT_G = "\U00030000"  # 𰀀: Extension G, in no installed font
PRIVATE = "\uf137"  # private use: HanaMinA has a glyph there, which means nothing here
MAIN, FIRST, SECOND = "NotoSansCJKSC", "HanaMinB", "HanaMinA"


@pytest.fixture(scope="module")
def fonts() -> None:
    try:
        cjk_font()
    except FontNotFound:
        font_missing("fonts-noto-cjk")
    if not all(path.is_file() for path in receipt_pdf.FALLBACK_FONTS):
        font_missing("fonts-hanazono")


def _document(name: str) -> bytes:
    document = CjkDocument("送达回证", created_at=CREATED, footer="第 {page} 页，共 {pages} 页")
    document.heading("送达回证")
    document.paragraph(f"受送达人{name}于二〇二六年十二月九日收到行政处罚决定书。")
    document.key_values([("受送达人", name), ("证件号码", "35010219850312123X")])
    document.table(("受送达人", "金额"), [(name, "¥5,000.00")], widths=(3, 1))
    document.reserve_seal()
    return document.output()


def _fonts(pdf: bytes) -> set[str]:
    """The embedded faces by name, without the subset tag."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return {str(reference.get_object()["/BaseFont"]).split("+", 1)[1]
            for page in reader.pages for reference in dictionary(page, "/Resources", "/Font").values()}


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages)


def test_extension_b_to_f_in_a_name_is_drawn_from_the_fallback_face(fonts: None) -> None:
    name = f"李{EXT_B}{EXT_F}四"
    pdf = _document(name)
    assert _fonts(pdf) == {MAIN, FIRST}  # the second face is not needed, so not embedded
    text = _text(pdf)
    assert f"受送达人{name}于" in text and text.count(name) == 3 and "[U+" not in text


def test_a_fiscal_receipt_draws_the_payer_from_the_fallback_face(fonts: None) -> None:
    payer = f"福州{EXT_B}科技有限公司"
    receipt = ReceiptIssuer("35010124", "福州市鼓楼区市场监督管理局", b"test-secret-0123456789").issue(
        42, issued_at=CREATED, payer_name=payer, payer_id="91350100MA2YXXXX1X",
        items=fine_items(5000_00, 0), platform_serial="SB2026120900000001",
        payment_code="35010026120900012345")
    pdf = render_receipt_pdf(receipt, "https://portal.example/r?k=1", cjk_font()[0])
    assert _fonts(pdf) == {MAIN, FIRST}
    assert payer in _text(pdf)


def test_a_compatibility_ideograph_brings_only_the_face_that_has_it(fonts: None) -> None:
    pdf = _document(f"林{COMPATIBILITY}")
    assert _fonts(pdf) == {MAIN, SECOND}
    assert f"受送达人林{COMPATIBILITY}于" in _text(pdf)


def test_an_ordinary_document_neither_parses_nor_embeds_a_fallback_face(
        fonts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[Path] = []
    shared_face = receipt_pdf._shared_face

    def spy(path: Path) -> receipt_pdf._SharedFace:
        looked_up.append(path)
        return shared_face(path)

    monkeypatch.setattr(receipt_pdf, "_shared_face", spy)
    for name in ("张三", "王𠮷𡈼𨺙", "刘䶮"):  # 𠮷𡈼𨺙 (Ext. B) and 䶮 (Ext. A) are in Noto
        assert _fonts(_document(name)) == {MAIN}
    assert not set(looked_up) & set(receipt_pdf.FALLBACK_FONTS)


def test_a_character_in_no_font_shows_as_its_code_point(
        fonts: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        pdf = _document(f"赵{EXT_G}{PRIVATE}\u200b{EXT_B[0]}六")
    assert f"受送达人赵[U+30000][U+F137]{EXT_B[0]}六于" in _text(pdf)  # the zero-width space left out
    assert _fonts(pdf) == {MAIN, FIRST}  # HanaMinA's private-use glyph is not used
    reports = [record.getMessage() for record in caplog.records if record.name == receipt_pdf.__name__]
    assert len(reports) == 1 and "U+30000" in reports[0] and "U+F137" in reports[0]
    assert "赵" not in reports[0] and not any("missing the following glyphs" in record.getMessage()
                                             for record in caplog.records)


def test_without_the_fallback_installed_rare_characters_show_as_code_points(
        fonts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receipt_pdf, "FALLBACK_FONTS", ())
    pdf = _document(f"李{EXT_B[0]}四")
    assert _fonts(pdf) == {MAIN}
    assert "受送达人李[U+2A6A5]四于" in _text(pdf)


def test_two_documents_do_not_share_what_output_changes_in_the_fallback_face(fonts: None) -> None:
    first, second = FPDF(), FPDF()
    receipt_pdf.add_cjk_font(first, "fallback", receipt_pdf.FALLBACK_FONTS[0])
    receipt_pdf.add_cjk_font(second, "fallback", receipt_pdf.FALLBACK_FONTS[0])
    one, other = first.fonts["fallback"], second.fonts["fallback"]
    assert one is not other and one.cmap is other.cmap  # type: ignore[union-attr]
    for attribute in ("ttfont", "subset", "cw", "desc", "missing_glyphs"):
        assert getattr(one, attribute) is not getattr(other, attribute), attribute
    assert one.ttfont.getGlyphOrder() is not other.ttfont.getGlyphOrder()  # type: ignore[union-attr]
    assert first.pdf_version == FPDF().pdf_version  # TrueType: no PDF 1.6 as for CFF
