"""Small PDFs for the signing tests and benchmark, written byte by byte (no PDF library).

Being hand-written, they stand for "PDFs produced by other tools": a classic xref table, no
object streams, Chinese text in the non-embedded Adobe font STSong-Light (UniGB-UCS2-H), which
every conforming reader can show. Each page draws a form XObject ``/Overlay`` after its text;
it is empty, which the shadow-attack tests exploit. With ``form_field`` the first page also
carries an empty text field named ``remark`` (for the form-filling tests).
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

__all__ = ["image_pdf", "make_pdf"]

_LINES = (
    "行政处罚决定书",
    "当事人：张三",
    "违法事实：未按规定办理登记。",
    "处罚决定：罚款人民币贰仟元整（2000.00元）。",
    "请于收到本决定书之日起十五日内缴纳罚款。",
)


def _text_line(x: int, y: int, size: int, text: str) -> bytes:
    hex_text = text.encode("utf-16-be").hex().upper()
    return f"BT /F1 {size} Tf {x} {y} Td <{hex_text}> Tj ET\n".encode()


def page_content(page_number: int, lines: tuple[str, ...] = _LINES) -> bytes:
    """The content stream of one page: the lines, a page number, then the overlay form."""
    parts = [_text_line(72, 760 - 28 * index, 16 if index else 22, line) for index, line in enumerate(lines)]
    parts.append(f"BT /F2 9 Tf 280 40 Td (- {page_number} -) Tj ET\n".encode())
    parts.append(b"q /Overlay Do Q\n")
    return b"".join(parts)


def make_pdf(pages: int = 1, lines: tuple[str, ...] = _LINES, form_field: bool = False) -> bytes:
    """A ``pages``-page A4 document whose every page carries ``lines``."""
    field_id = 9 + 2 * pages
    acroform = f" /AcroForm << /Fields [{field_id} 0 R] /DA (/Helv 0 Tf 0 g) >>" if form_field else ""
    objects: dict[int, bytes] = {
        1: f"<< /Type /Catalog /Pages 2 0 R{acroform} >>".encode(),
        3: (
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            b"/DescendantFonts [4 0 R] >>"
        ),
        4: (
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
            b"/FontDescriptor 5 0 R /DW 1000 >>"
        ),
        5: (
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 >>"
        ),
        6: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        7: _stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] >>", b""),
        8: b"<< /Producer (sample_pdfs, tests/signing) >>",
    }
    kids = []
    for index in range(pages):
        page_id, content_id = 9 + 2 * index, 10 + 2 * index
        kids.append(f"{page_id} 0 R")
        annots = f"/Annots [{field_id} 0 R] " if form_field and index == 0 else ""
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R {annots}"
            "/Resources << /Font << /F1 3 0 R /F2 6 0 R >> /XObject << /Overlay 7 0 R >> >> >>"
        ).encode()
        objects[content_id] = _stream(b"<< >>", page_content(index + 1, lines))
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    if form_field:
        objects[field_id] = (
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (remark) /F 4 /Rect [72 560 320 590] /P 9 0 R >>"
        )
    return _serialise(objects, root=1, info=8)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    head = dictionary[:-2].rstrip() + f" /Length {len(data)} >>".encode()
    return head + b"\nstream\n" + data + b"\nendstream"


def _serialise(objects: dict[int, bytes], root: int, info: int) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n")
    xref_at = out.tell()
    size = max(objects) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    for number in range(1, size):
        if number in offsets:
            out.write(f"{offsets[number]:010d} 00000 n \n".encode())
        else:
            out.write(b"0000000000 65535 f \n")
    out.write(f"trailer\n<< /Size {size} /Root {root} 0 R /Info {info} 0 R >>\n".encode())
    out.write(f"startxref\n{xref_at}\n%%EOF\n".encode())
    return out.getvalue()


def image_pdf(text: str = "电子送达确认书") -> bytes:
    """A one-page scanned-style PDF written by Pillow (another producer again)."""
    picture = Image.new("RGB", (620, 877), "white")
    ImageDraw.Draw(picture).rectangle((40, 40, 580, 837), outline="black", width=3)
    ImageDraw.Draw(picture).text((60, 60), text.encode("ascii", "replace").decode(), fill="black")
    buffer = io.BytesIO()
    picture.save(buffer, format="PDF", resolution=72.0)
    return buffer.getvalue()
