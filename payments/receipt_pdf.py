"""Rendering a fiscal e-receipt as a one-page A4 PDF in Chinese.

The PDF carries everything a person or a program needs to check the receipt:

- the receipt's fields laid out as a form (code, number, check code, issue time in China
  time, payer, payment code, platform serial, items, the total in figures and in capital
  numerals, issuing unit; for a red-letter reversal the original's code and number);
- a QR code linking to the portal's public verification page (``verify_url``);
- the structured data (`payments.receipts.receipt_json`) attached as ``receipt.json`` in the
  document's embedded files (/EmbeddedFiles, associated file relationship ``Data``), so a
  program reads the receipt without parsing the page.

The portal seals the returned bytes afterwards through `signing` (this library never
imports it). The PDF is built with fpdf2 (≥ 2.8.6, which embeds and subsets CID-keyed CFF
fonts and selects faces of ``.ttc`` collections), so Debian's Noto CJK works as installed: the
Simplified Chinese face is picked by name. reportlab cannot embed CFF outlines. The
document's dates come from the receipt, so rendering the same receipt twice yields the same
bytes.

The Chinese font is shared between documents (``add_cjk_font``, which the portal's own
documents use too). fpdf2 parses a font for every document — its metrics when the font is
added, its outlines again when they are subset at output — and for Noto CJK (65,535 glyphs)
that was two thirds of the rendering time. Here a face is parsed once per process; each
document gets a copy of fpdf2's font object that shares the read-only parse (character map,
glyph ids) and owns what a document changes (its subset, the widths it looked up, the font
descriptor that output numbers), and subsets its own copy of the outline tables, opened
lazily from bytes kept in memory. The PDF is the one ``FPDF.add_font`` gives — same text,
glyph codes, widths, ToUnicode map and glyph programs — except for one number: the FontBBox
inside the embedded font program is the face's, not recomputed over the subset's glyphs (that
ran every glyph's outline through fontTools, a quarter of what was left; the face's box holds
each of its glyphs, and the PDF's font descriptor already gave it). A TrueType face is shared
the same way, its whole file kept in memory and its subset cut exactly as fpdf2 cuts it.

What is left of the subsetting scales with the face: fontTools reads the character set and the
offsets of all 65,535 glyph programs of Noto CJK for every document, and for a receipt that was
half of its rendering. A process that renders many documents (the portal's receipt processes)
calls ``prepare_common_glyphs`` once: it cuts the face down to the characters of everyday
Chinese text (``common_characters``: GB 2312 — the 6,763 hanzi of nearly every name and
text — with Latin, punctuation, CJK symbols and full-width forms), some 7,600 glyphs, and keeps
that cut in a cache directory, so the next process reads it instead of cutting it again. A
document whose glyphs are all in the cut is subset from it: the same subset, byte for byte
(subsetting keeps the glyphs' order, their CIDs and the subroutines they use; cutting twice is
cutting once), at a third of the cost. A document with any other glyph (a rare character in a
name) is subset from the whole face as before.

No character is lost. Noto Sans CJK lacks most of CJK Extensions B–F (𪚥, U+2A6A5, among
them), which occur in real names of people and companies, and fpdf2 silently leaves out a
character its font lacks. Documents are drawn on `CjkPdf`, which looks at every text before
fpdf2 draws it: a character the current face lacks is drawn from a fallback face
(``FALLBACK_FONTS``: Debian's fonts-hanazono, HanaMinB for Extensions B–F, then HanaMinA for
the compatibility ideographs), registered with ``FPDF.set_fallback_fonts`` only in a document
that needs it and only the faces it needs, so an ordinary document neither parses nor embeds
one (a face is parsed once per process, like the main one). A character in no installed font
is drawn as its code point, ``[U+30000]``: the document still issues and shows that a character
stood there and which one, where leaving it out would silently change a party's name (a
document refused instead would stop a legal step over a font, and would come back the same on
every retry). So is a private-use character (U+E000–U+F8FF and the private planes): its
meaning is a private agreement, and a fallback face's glyph for it (HanaMinA has 1,402) would
draw some other character. Invisible format characters (zero-width space, joiners, variation
selectors) that no font draws are left out, as fpdf2 would. Either way a warning is logged
with the code points and never the text around them, which may be a party's name.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import os
import tempfile
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fontTools
import qrcode
from fontTools import subset as ftsubset
from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from payments.catalogue import RECEIPT as T
from payments.receipt_text import ATTACHMENT_NAME, form_rows
from payments.receipts import Receipt, ReceiptKind, receipt_json

__all__ = [
    "ATTACHMENT_NAME",
    "FALLBACK_FONTS",
    "CjkPdf",
    "add_cjk_font",
    "common_characters",
    "prepare_common_glyphs",
    "qr_png",
    "render_receipt_pdf",
    "simplified_chinese_face",
]

FALLBACK_FONTS = (
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
    Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),
)
"""Debian's fonts-hanazono, in the order they are tried. With Noto Sans CJK SC they cover
CJK Extensions B–F whole but for the 9 characters Unicode 13 and 14 added to Extension B, and
the compatibility ideographs; not Extensions G–I."""
_FONT = "receipt-cjk"
_FALLBACK_FAMILY = "cjk-fallback-"
_LOG = logging.getLogger(__name__)
_RED = (190, 20, 20)
_BLACK = (0, 0, 0)


_OUTLINE_TABLES = frozenset({"head", "hhea", "maxp", "post", "CFF "})
"""The tables a document's subset is cut from. Of a CID-keyed CFF font fpdf2 embeds the CFF
table alone (FontFile3, CIDFontType0C) and writes widths and character codes from the shared
parse; the other four let fontTools open, subset and save the face."""


def simplified_chinese_face(font_path: Path) -> int:
    """The face of a font collection whose family is Simplified Chinese (" SC"); 0 otherwise."""
    if font_path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    collection = TTCollection(str(font_path), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if " SC" in (face["name"].getDebugName(1) or ""):
                return index
    finally:
        collection.close()
    return 0


@dataclass(frozen=True)
class _SharedFace:
    face: int
    cmap: Mapping[int, str]
    """Code point → glyph name, as fpdf2 reads it: the characters the face draws."""
    template: TTFFont | None
    """fpdf2's parse of the face, never given to a document itself; ``None`` for a font that
    is neither CID-keyed CFF nor plain TrueType (then every document adds it the ordinary way)."""
    outlines: bytes
    """For CFF, the face's ``_OUTLINE_TABLES`` as a font file of their own; for TrueType,
    the whole file."""
    glyph_order: tuple[str, ...] = ()
    """Of a TrueType face: its glyph names, which fontTools otherwise works out again for each
    document (from the character map, when the face's ``post`` table names no glyph)."""

    def open_outlines(self) -> TTFont:
        """A document's own font to subset, opened lazily (nothing is parsed until used)."""
        if self.template is not None and self.template.is_cff:
            return TTFont(io.BytesIO(self.outlines), lazy=True, recalcTimestamp=False,
                          recalcBBoxes=False)
        # As fpdf2 opens a TrueType face, so that the subset is the one it would make.
        font = TTFont(io.BytesIO(self.outlines), fontNumber=self.face, lazy=True,
                      recalcTimestamp=False)
        font.setGlyphOrder(list(self.glyph_order))  # a list of its own: subsetting replaces it
        return font


_FaceKey = tuple[Path, int, int]
"""A font file as parsed: its path, size and modification time."""
_shared: dict[_FaceKey, _SharedFace] = {}
_shared_lock = threading.Lock()
_common: dict[_FaceKey, tuple[frozenset[str], bytes]] = {}
"""A face's cut to ``common_characters`` (``prepare_common_glyphs``): its glyph names and its
outline tables as a font file."""


def add_cjk_font(pdf: FPDF, family: str, font_path: Path) -> None:
    """``pdf.add_font(family, fname=font_path)``, choosing the Simplified Chinese face of a
    collection, with the face parsed once per process (per file, size and modification time;
    a font that is neither CID-keyed CFF nor TrueType is added the ordinary way). Safe from
    several threads: what documents share is never written."""
    shared = _shared_face(font_path)
    if shared.template is None:
        pdf.add_font(family, fname=str(font_path), collection_font_number=shared.face)
        return
    if isinstance(pdf, CjkPdf):
        pdf.faces[family.lower()] = _face_key(font_path)
    # What FPDF.add_font does, with fpdf2's font object copied instead of parsed: the copy
    # shares the read-only parse and gets fresh instances of whatever a document changes.
    font = copy.copy(shared.template)
    font.i = len(pdf.fonts) + 1
    font.fontkey = family.lower()
    font.ttfont = shared.open_outlines()
    font.cw = copy.copy(shared.template.cw)
    font.desc = copy.copy(shared.template.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
    if font.is_cff:  # CID-keyed CFF (FPDF.add_font does the same)
        pdf.pdf_version = max(pdf.pdf_version, "1.6")


def _face_key(font_path: Path) -> _FaceKey:
    stat = font_path.stat()
    return font_path.resolve(), stat.st_size, stat.st_mtime_ns


def _shared_face(font_path: Path) -> _SharedFace:
    key = _face_key(font_path)
    with _shared_lock:  # one parse per face, however many threads render at once
        if key not in _shared:
            _shared[key] = _parse_face(font_path)
        return _shared[key]


def _parse_face(font_path: Path) -> _SharedFace:
    face = simplified_chinese_face(font_path)
    probe = FPDF()
    probe.add_font("shared", fname=str(font_path), collection_font_number=face)
    template = probe.fonts["shared"]
    if not isinstance(template, TTFFont):  # what add_font gives for a file, in fpdf2 2.8
        raise RuntimeError(f"fpdf2 parsed the font as {type(template).__name__}, not TTFFont")
    if template.color_font is not None or template.is_compressed:
        return _SharedFace(face, template.cmap, None, b"")
    if not template.is_cff:
        # fpdf2 draws a .notdef into a TrueType face that lacks one: only its own parse has it.
        if ".notdef" not in template.ttfont["glyf"]:  # type: ignore[operator]
            return _SharedFace(face, template.cmap, None, b"")
        glyph_order = tuple(template.ttfont.getGlyphOrder())
        template.close()
        data = font_path.read_bytes()
        template.ttfont = TTFont(io.BytesIO(data), fontNumber=face, lazy=True)
        return _SharedFace(face, template.cmap, template, data, glyph_order)
    if not template.is_cid_keyed:
        return _SharedFace(face, template.cmap, None, b"")
    template.close()
    outlines = TTFont(str(font_path), fontNumber=face, lazy=True, recalcBBoxes=False,
                      recalcTimestamp=False)
    for tag in set(outlines.keys()) - _OUTLINE_TABLES - {"GlyphOrder"}:
        del outlines[tag]
    buffer = io.BytesIO()
    outlines.save(buffer)  # the kept tables are copied as they are, none is parsed
    outlines.close()
    data = buffer.getvalue()
    # fpdf2 has read what it needs from the parsed tables (some 30 MB for 65,535 glyphs).
    template.ttfont = TTFont(io.BytesIO(data), lazy=True)
    return _SharedFace(face, template.cmap, template, data)


def common_characters() -> frozenset[int]:
    """The code points of everyday Chinese text: GB 2312 (its 6,763 hanzi and its symbols),
    Latin-1 and Latin Extended-A, general punctuation, CJK symbols and punctuation, full-width
    forms."""
    ranges = (range(0x20, 0x180), range(0x2000, 0x2070), range(0x3000, 0x3040), range(0xFF00, 0xFFF0))
    points = {point for block in ranges for point in block}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(points)


def prepare_common_glyphs(font_path: Path, cache_dir: Path, *, cut: bool = True,
                          characters: frozenset[int] | None = None) -> bool:
    """Subset this process's documents in ``font_path`` from its cut to ``common_characters``
    whenever they allow (see the module docstring); whether they now are. The cut costs some
    seconds of CPU once; it is read from ``cache_dir`` (by file, size, modification time and
    fontTools version) when a process made it before, else made (unless ``cut`` is false) and
    written there. ``characters`` are those of the cut (``common_characters()`` by default).
    A face that is not CID-keyed CFF has no cut (fpdf2 subsets the others from the whole
    file)."""
    shared = _shared_face(font_path)
    if shared.template is None or not shared.template.is_cff:
        return False
    key = _face_key(font_path)
    characters = common_characters() if characters is None else characters
    repertoire = hashlib.sha256(",".join(map(str, sorted(characters))).encode()).hexdigest()[:12]
    cached = cache_dir / (f"{font_path.stem}-{shared.face}-{key[1]}-{key[2]}"
                          f"-fonttools{fontTools.version}-{repertoire}.otf")
    if cached.is_file():
        data = cached.read_bytes()
    elif not cut:
        return False
    else:
        data = _cut(shared, frozenset(shared.cmap[point] for point in characters if point in shared.cmap))
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as file:
            file.write(data)
        os.replace(file.name, cached)  # whole or not at all, whichever process writes last
    names = frozenset(TTFont(io.BytesIO(data), lazy=True).getGlyphOrder())
    with _shared_lock:
        _common[key] = (names, data)
    return True


def _cut(shared: _SharedFace, glyphs: frozenset[str]) -> bytes:
    """The face's outline tables subset to ``glyphs`` as fpdf2 subsets a document's."""
    font = shared.open_outlines()
    subsetter = ftsubset.Subsetter(ftsubset.Options(notdef_outline=True, recommended_glyphs=True))
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


class CjkPdf(FPDF):
    """fpdf2 that draws every character of its text or shows that it could not (see the module
    docstring): what the current face lacks comes from a face of ``fallback_fonts`` (by
    default the installed ones of ``FALLBACK_FONTS``) added to the document when first needed,
    what no face has is written as its code point. Text passes here whichever way fpdf2 draws
    or measures it (cells, tables, ``write``, ``get_string_width``), with text shaping or
    without."""

    def __init__(self, *args: Any, fallback_fonts: Sequence[Path] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fallback_paths = None if fallback_fonts is None else tuple(fallback_fonts)
        self._fallback_families: dict[Path, str] = {}
        self._reported: set[str] = set()  # fpdf2 sees a text more than once (measure, draw)
        self.faces: dict[str, _FaceKey] = {}
        """The shared faces of ``add_cjk_font`` by font key."""

    def output(self, *args: Any, **kwargs: Any) -> Any:
        """``FPDF.output``, each shared face subset from its common cut when that holds every
        glyph the document uses (``prepare_common_glyphs``)."""
        for fontkey, key in self.faces.items():
            font = self.fonts[fontkey]
            common = _common.get(key)
            if common is not None and isinstance(font, TTFFont) and font.is_cff and \
                    set(font.subset.get_all_glyph_names()) <= common[0]:
                font.ttfont = TTFont(io.BytesIO(common[1]), lazy=True, recalcTimestamp=False,
                                     recalcBBoxes=False)
        return super().output(*args, **kwargs)

    def normalize_text(self, text: str) -> str:
        text = super().normalize_text(text)
        font = self.current_font
        if not isinstance(font, TTFFont) or font.fontkey in self._fallback_font_ids:
            return text
        # One look per distinct character, in the face's own map: an ordinary text stops here.
        lacking = {char for char in set(text) if ord(char) not in font.cmap and not _is_control(char)}
        return self._draw_or_show(text, lacking) if lacking else text

    def _draw_or_show(self, text: str, lacking: set[str]) -> str:
        private = {char for char in lacking if unicodedata.category(char) == "Co"}
        unplaced = lacking - private  # a private-use character never comes from a fallback
        for path in self._fallback_candidates():
            if not unplaced:
                break
            family = self._fallback_families.get(path)
            cmap = self.fonts[family].cmap if family else _shared_face(path).cmap  # type: ignore[union-attr]
            found = {char for char in unplaced if ord(char) in cmap}
            if found and family is None:
                self._add_fallback(path)
            unplaced -= found
        unplaced |= private
        if not unplaced:
            return text
        if unplaced - self._reported:
            self._reported |= unplaced
            _LOG.warning("a document has characters in no installed font, drawn as their code "
                         "points (format characters left out): %s",
                         ", ".join(sorted(f"U+{ord(char):04X}" for char in unplaced)))
        return "".join(_stand_in(char) if char in unplaced else char for char in text)

    def _fallback_candidates(self) -> tuple[Path, ...]:
        if self._fallback_paths is None:  # looked for when first needed, not per document
            self._fallback_paths = tuple(path for path in FALLBACK_FONTS if path.is_file())
        return self._fallback_paths

    def _add_fallback(self, path: Path) -> None:
        family = f"{_FALLBACK_FAMILY}{len(self._fallback_families)}"
        add_cjk_font(self, family, path)
        self._fallback_families[path] = family
        # Kept in the configured order, whichever face a document needed first.
        self.set_fallback_fonts([self._fallback_families[candidate]
                                 for candidate in self._fallback_candidates()
                                 if candidate in self._fallback_families], exact_match=False)


def _is_control(char: str) -> bool:
    """Line breaks and tabs: fpdf2's to lay out, never drawn as glyphs."""
    return unicodedata.category(char) == "Cc"


def _is_invisible(char: str) -> bool:
    """A format character or a variation selector: nothing of its own to draw."""
    code = ord(char)
    return (unicodedata.category(char) == "Cf" or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F)


def _stand_in(char: str) -> str:
    return "" if _is_invisible(char) else f"[U+{ord(char):04X}]"


def qr_png(url: str) -> bytes:
    """A QR code (error correction M, 4-module quiet zone) for ``url``, as PNG bytes."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def render_receipt_pdf(receipt: Receipt, verify_url: str, font_path: Path,
                       fallback_fonts: Sequence[Path] | None = None, *,
                       qr_code: bytes | None = None) -> bytes:
    """The receipt as PDF bytes; ``font_path`` is a font with Simplified Chinese glyphs,
    ``fallback_fonts`` those for characters it lacks (``CjkPdf``; the installed
    ``FALLBACK_FONTS`` by default). ``qr_code`` is ``qr_png(verify_url)`` when the caller has
    drawn it already (for the receipt's OFD: drawing one costs some tens of milliseconds)."""
    reversal = receipt.kind is ReceiptKind.REVERSAL
    title = T["title_reversal"] if reversal else T["title"]
    pdf = CjkPdf(format="A4", fallback_fonts=fallback_fonts)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(receipt.issued_at)
    pdf.set_title(f"{title} {receipt.code}-{receipt.number}")
    pdf.set_lang("zh-CN")
    pdf.set_creator("enforcement-portal payments")
    add_cjk_font(pdf, _FONT, font_path)
    pdf.add_page()

    pdf.image(io.BytesIO(qr_code or qr_png(verify_url)), x=160, y=14, w=30, h=30, alt_text=verify_url)
    pdf.set_font(_FONT, size=8)
    pdf.set_xy(160, 44)
    pdf.cell(30, 4, T["verify"], align="C")

    pdf.set_text_color(*(_RED if reversal else _BLACK))
    pdf.set_font(_FONT, size=20)
    pdf.set_xy(20, 24)
    pdf.cell(140, 12, title, align="C")
    pdf.set_text_color(*_BLACK)

    pdf.set_font(_FONT, size=10)
    pdf.set_xy(20, 54)
    widths = (36, 49, 36, 49)
    with pdf.table(
        col_widths=widths, first_row_as_headings=False, line_height=8, text_align="LEFT",
        cell_fill_color=(240, 240, 240), cell_fill_mode=TableCellFillMode.EVEN_COLUMNS,
    ) as table:  # fmt: skip
        for cells in form_rows(receipt):
            row = table.row()
            for text, span in cells:
                row.cell(text, colspan=span)

    pdf.ln(4)
    headings = FontFace(emphasis="", fill_color=(240, 240, 240))
    with pdf.table(
        col_widths=(120, 50), line_height=8, text_align=("LEFT", "RIGHT"), headings_style=headings
    ) as table:
        table.row([T["item"], T["amount"]])
        for item in receipt.items:
            table.row([item.name, item.amount_yuan])
        table.row(
            [f"{T['total_capital']}：{receipt.total_capital}", f"{T['total_figures']}：¥{receipt.total_yuan}"]
        )

    pdf.ln(4)
    with pdf.table(col_widths=(36, 134), first_row_as_headings=False, line_height=8) as table:
        table.row([T["issuer"], receipt.issuer])

    pdf.ln(6)
    pdf.set_font(_FONT, size=9)
    if reversal:
        pdf.set_text_color(*_RED)
        pdf.multi_cell(170, 5, T["note_reversal"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*_BLACK)
    pdf.multi_cell(170, 5, T["note"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.embed_file(
        bytes=receipt_json(receipt),
        basename=ATTACHMENT_NAME,
        desc=T["attachment"],
        mime_type="application/json",
        modification_date=receipt.issued_at,
        associated_file_relationship="Data",
    )
    return bytes(pdf.output())
