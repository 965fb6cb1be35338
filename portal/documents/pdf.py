"""A small builder of A4 documents in Simplified Chinese, rendered to PDF with fpdf2.

The portal issues documents that people print, file and show to others: the signature
verification report now, service receipts (送达回证) and consent confirmations later. They
share one look and one mechanism, built top to bottom from a few blocks — headings,
paragraphs, label/value tables, plain tables — and they end with a box kept free for the
visible seal that ``portal.notary`` stamps there when it seals the bytes (``reserve_seal``
returns the ``signing.SealPlacement`` of that box).

Why fpdf2: it embeds and subsets OpenType/CFF fonts such as Debian's Noto CJK, ``.ttc``
collections included, so the Chinese text is in the file and is extractable (ToUnicode), with
no font needed on the reader's side; reportlab cannot embed CFF outlines. The font is found
by ``signing.find_cjk_font()``; for running text the Regular weight of Noto Sans CJK beside it
is preferred when installed, and in a collection the Simplified Chinese face (" SC").

The font is parsed once per process and shared by the documents
(``payments.receipt_pdf.add_cjk_font``, which the fiscal e-receipts use too). No character of
a name is lost: the pages are drawn on ``payments.receipt_pdf.CjkPdf``, which draws what Noto
lacks (CJK Extensions B–F) from Debian's fonts-hanazono, added only to a document that needs
it, and writes a character no installed font has as its code point, ``[U+30000]``. Rendering
is still CPU work (around a hundred milliseconds, mostly subsetting the font; a few hundred
more in the rare document that needs the fallback face): callers run it in a thread, never
on the event loop.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf.enums import TableCellFillMode, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from payments.receipt_pdf import CjkPdf, add_cjk_font, simplified_chinese_face
from signing import SealPlacement, find_cjk_font

__all__ = ["CjkDocument", "Colour", "cjk_font"]

Colour = tuple[int, int, int]
_FONT = "portal-cjk"
_PT_PER_MM = 72 / 25.4
_MARGIN_X, _MARGIN_TOP, _MARGIN_BOTTOM = 20.0, 18.0, 20.0
_BODY_SIZE = 10.5
_HEADING_SIZES = {1: 18.0, 2: 13.5, 3: 11.5}
_LABEL_FILL: Colour = (242, 242, 242)
_BLACK: Colour = (0, 0, 0)
_GREY: Colour = (90, 90, 90)


@functools.cache
def cjk_font() -> tuple[Path, int]:
    """The font file for documents and, in a collection, the index of its Simplified Chinese
    face. Cached: the answer does not change while the process runs."""
    found = find_cjk_font()
    candidates = (
        found.parent / "NotoSansCJK-Regular.ttc",
        found.with_name(found.name.replace("-Bold", "-Regular")),
        found,
    )
    path = next(candidate for candidate in candidates if candidate.is_file())
    return path, simplified_chinese_face(path)


class _Pdf(CjkPdf):
    """fpdf2 with a page footer; ``{page}`` and ``{pages}`` in the footer are filled in."""

    footer_text: str = ""

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.set_font(_FONT, size=8)
        self.set_text_color(*_GREY)
        text = self.footer_text.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 5, text, align="C")
        self.set_text_color(*_BLACK)


class CjkDocument:
    """One document being built; call ``output()`` once at the end."""

    def __init__(self, title: str, *, created_at: datetime, creator: str = "enforcement-portal",
                 footer: str = "") -> None:
        font_path = cjk_font()[0]
        pdf = _Pdf(format="A4")
        pdf.footer_text = footer
        pdf.set_margins(_MARGIN_X, _MARGIN_TOP, _MARGIN_X)
        pdf.set_auto_page_break(True, margin=_MARGIN_BOTTOM)
        pdf.set_creation_date(created_at)
        pdf.set_title(title)
        pdf.set_lang("zh-CN")
        pdf.set_creator(creator)
        add_cjk_font(pdf, _FONT, font_path)
        pdf.add_page()
        pdf.set_font(_FONT, size=_BODY_SIZE)
        self.pdf = pdf

    @property
    def width(self) -> float:
        """Usable width between the margins, in millimetres."""
        return float(self.pdf.epw)

    def heading(self, text: str, level: int = 1, *, colour: Colour = _BLACK,
                keep_with_next: float = 30.0) -> None:
        """A heading; a new page first if fewer than ``keep_with_next`` mm are left below it,
        so that a heading never ends a page alone."""
        size = _HEADING_SIZES[level]
        if self.pdf.get_y() + keep_with_next > self.pdf.h - _MARGIN_BOTTOM:
            self.pdf.add_page()
        self.pdf.ln(2 if level == 1 else 4)
        self._text(text, size=size, colour=colour, line_height=size * 0.55)
        self.pdf.ln(1.5)

    def paragraph(self, text: str, *, size: float = _BODY_SIZE, colour: Colour = _BLACK) -> None:
        self._text(text, size=size, colour=colour, line_height=size * 0.55)
        self.pdf.ln(1.5)

    def key_values(self, rows: Sequence[tuple[str, str]], *, label_width: float = 42.0) -> None:
        """A two-column table: labels on a grey ground on the left, values on the right."""
        if not rows:
            return
        self.pdf.set_font(_FONT, size=_BODY_SIZE - 1)
        with self.pdf.table(
            col_widths=(label_width, self.width - label_width), first_row_as_headings=False,
            line_height=5.5, text_align="LEFT", wrapmode=WrapMode.CHAR, padding=1.2,
            cell_fill_color=_LABEL_FILL, cell_fill_mode=TableCellFillMode.EVEN_COLUMNS,
        ) as table:
            for label, value in rows:
                table.row([label, value])
        self.pdf.set_font(_FONT, size=_BODY_SIZE)
        self.pdf.ln(2)

    def table(self, headings: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float]) -> None:
        """A table with a heading row; ``widths`` are relative column widths."""
        self.pdf.set_font(_FONT, size=_BODY_SIZE - 1.5)
        style = FontFace(emphasis="", fill_color=_LABEL_FILL)
        with self.pdf.table(
            col_widths=tuple(widths), line_height=5, text_align="LEFT", wrapmode=WrapMode.CHAR,
            padding=1.2, headings_style=style,
        ) as table:
            table.row(list(headings))
            for row in rows:
                table.row(list(row))
        self.pdf.set_font(_FONT, size=_BODY_SIZE)
        self.pdf.ln(2)

    def image(self, png: bytes, width: float) -> None:
        """A picture ``width`` mm wide (square), on the left, on a new page if it does not fit."""
        pdf = self.pdf
        if pdf.get_y() + width > pdf.h - _MARGIN_BOTTOM:
            pdf.add_page()
        pdf.image(io.BytesIO(png), x=_MARGIN_X, w=width, h=width, keep_aspect_ratio=True)
        pdf.ln(2)

    def reserve_seal(self, size: float = 40.0) -> SealPlacement:
        """Keep a ``size`` mm square free at the right, below what is written so far (on a
        new page if this one is full), and return where the seal goes, in PDF points."""
        pdf = self.pdf
        if pdf.get_y() + size > pdf.h - _MARGIN_BOTTOM:
            pdf.add_page()
        top = pdf.get_y() + 2
        right = pdf.w - _MARGIN_X
        box = (
            (right - size) * _PT_PER_MM,
            (pdf.h - top - size) * _PT_PER_MM,
            right * _PT_PER_MM,
            (pdf.h - top) * _PT_PER_MM,
        )
        pdf.set_y(top + size)
        return SealPlacement(page=pdf.page - 1, box=box)

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def _text(self, text: str, *, size: float, colour: Colour, line_height: float) -> None:
        pdf = self.pdf
        pdf.set_font(_FONT, size=size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, line_height, text, align="L", wrapmode=WrapMode.CHAR,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*_BLACK)
        pdf.set_font(_FONT, size=_BODY_SIZE)
