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
"""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
from fontTools.ttLib import TTCollection
from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from payments.catalogue import RECEIPT as T
from payments.receipts import Receipt, ReceiptKind, receipt_json

__all__ = ["ATTACHMENT_NAME", "qr_png", "render_receipt_pdf"]

ATTACHMENT_NAME = "receipt.json"
_FONT = "receipt-cjk"
_RED = (190, 20, 20)
_BLACK = (0, 0, 0)


def _collection_index(font_path: Path) -> int:
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


def qr_png(url: str) -> bytes:
    """A QR code (error correction M, 4-module quiet zone) for ``url``, as PNG bytes."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def _fields(receipt: Receipt) -> list[list[tuple[str, int]]]:
    """The form's rows: (text, colspan) cells over four columns, labels and values alternating."""
    issued = receipt.issued_at_china.strftime("%Y-%m-%d %H:%M:%S")
    rows: list[list[tuple[str, int]]] = [
        [(T["code"], 1), (receipt.code, 1), (T["number"], 1), (receipt.number, 1)],
        [(T["check_code"], 1), (receipt.check_code, 1), (T["issued_at"], 1), (issued, 1)],
        [(T["payer"], 1), (receipt.payer_name, 3)],
        [(T["payer_id"], 1), (receipt.payer_id, 3)],
        [
            (T["payment_code"], 1),
            (receipt.payment_code, 1),
            (T["platform_serial"], 1),
            (receipt.platform_serial, 1),
        ],
    ]
    if receipt.original is not None:
        rows.append([(T["original"], 1), (f"{receipt.original.code} / {receipt.original.number}", 3)])
    return rows


def render_receipt_pdf(receipt: Receipt, verify_url: str, font_path: Path) -> bytes:
    """The receipt as PDF bytes; ``font_path`` is a font with Simplified Chinese glyphs."""
    reversal = receipt.kind is ReceiptKind.REVERSAL
    title = T["title_reversal"] if reversal else T["title"]
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(receipt.issued_at)
    pdf.set_title(f"{title} {receipt.code}-{receipt.number}")
    pdf.set_lang("zh-CN")
    pdf.set_creator("enforcement-portal payments")
    pdf.add_font(_FONT, fname=str(font_path), collection_font_number=_collection_index(font_path))
    pdf.add_page()

    pdf.image(io.BytesIO(qr_png(verify_url)), x=160, y=14, w=30, h=30, alt_text=verify_url)
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
        for cells in _fields(receipt):
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
