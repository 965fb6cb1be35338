"""Builders of hostile PDFs: what an attacker does to a signed file, done byte by byte.

Each function takes a (usually signed) PDF and returns the attacked bytes. Raw incremental
updates (``append_update``) redefine objects exactly as an attacker would, without the
politeness of a PDF library; structural edits (new pages, annotations, a DSS) go through
pyhanko's incremental writer. Nothing here is committed as a binary: the corpus is rebuilt by
the tests every run.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from tests.signing.sample_pdfs import page_content

__all__ = [
    "append_update",
    "decompression_bomb",
    "deeply_nested",
    "edit",
    "encrypted",
    "long_last_line",
    "long_line_after_eof",
    "many_revisions",
    "overlay_text",
    "rewrite_cms",
    "stream",
    "tamper_byte_range",
]

# Object numbers in sample_pdfs.make_pdf: the first page's content stream and the overlay form.
FIRST_CONTENT, OVERLAY = 10, 7


def stream(dictionary: str, data: bytes) -> bytes:
    """Bytes of a PDF stream object body."""
    return f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def append_update(pdf: bytes, objects: dict[int, bytes], trailer_extra: bytes = b"") -> bytes:
    """A hand-written incremental update (re)defining ``objects``; catalog and /Prev kept."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = reader.trailer.raw_get("/Root")
    size = max(int(reader.trailer["/Size"]), max(objects) + 1)
    out = io.BytesIO()
    out.write(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = out.tell()
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(b"xref\n0 1\n0000000000 65535 f \n")
    for number, offset in sorted(offsets.items()):
        out.write(f"{number} 1\n{offset:010d} 00000 n \n".encode())
    trailer = (
        f"<< /Size {size} /Root {root.idnum} {root.generation} R /Prev {reader.last_startxref} ".encode()
    )
    out.write(b"trailer\n" + trailer + trailer_extra + f" >>\nstartxref\n{xref_at}\n%%EOF\n".encode())
    return out.getvalue()


def edit(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    """Apply ``change`` through pyhanko's incremental writer and return the new file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _contents_span(pdf: bytes) -> tuple[int, int]:
    """Start and end of the (last) signature's ``/Contents`` hex string, brackets included."""
    match = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf))[-1]
    _, first_length, second_start, _ = (int(value) for value in match.groups())
    return first_length, second_start


def rewrite_cms(pdf: bytes, change: Callable[[cms.ContentInfo], cms.ContentInfo]) -> bytes:
    """Replace the signature container in place (same length, zero-padded as signers do)."""
    start, end = _contents_span(pdf)
    # The DER's own length says where it ends; the zero padding after it is ignored by a
    # non-strict load (stripping zeros off the hex would eat a DER ending in a 0 digit).
    content = cms.ContentInfo.load(bytes.fromhex(pdf[start + 1 : end - 1].decode()), strict=False)
    new_hex = change(content).dump(force=True).hex().encode()
    if len(new_hex) > end - start - 2:
        raise ValueError("the new signature container does not fit")
    return pdf[: start + 1] + new_hex.ljust(end - start - 2, b"0") + pdf[end - 1 :]


def tamper_byte_range(pdf: bytes, shift_first: int, shift_second: int) -> bytes:
    """Change the numbers of ``/ByteRange`` keeping the field's width (signature wrapping)."""
    match = list(re.finditer(rb"/ByteRange\s*\[([^\]]*)\]", pdf))[-1]
    values = [int(value) for value in match.group(1).split()]
    values[1] += shift_first
    values[2] += shift_second
    values[3] -= shift_second
    text = " ".join(str(value) for value in values).encode()
    width = match.end(1) - match.start(1)
    return pdf[: match.start(1)] + text.ljust(width) + pdf[match.end(1) :]


def encrypted(pdf: bytes) -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt("owner-password", "user-password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decompression_bomb(pdf: bytes, megabytes: int = 512) -> bytes:
    """Add a DSS whose "CRL" is ``megabytes`` of zeros compressed twice (a few KB on disk)."""
    inner = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    layer = b"".join(inner.compress(chunk) for _ in range(megabytes)) + inner.flush()
    bomb = zlib.compress(layer, 9)

    def add_dss(writer: IncrementalPdfFileWriter) -> None:
        filters = generic.ArrayObject([pdf_name("/FlateDecode"), pdf_name("/FlateDecode")])
        crl = generic.StreamObject({pdf_name("/Filter"): filters}, encoded_data=bomb)
        dss = generic.DictionaryObject({pdf_name("/CRLs"): generic.ArrayObject([writer.add_object(crl)])})
        writer.root[pdf_name("/DSS")] = writer.add_object(dss)
        writer.update_root()

    return edit(pdf, add_dss)


def deeply_nested(pdf: bytes, depth: int = 100_000) -> bytes:
    """An update whose trailer holds an array nested ``depth`` levels deep (parsed on open)."""
    nested = b"/Nested " + b"[" * depth + b"1" + b"]" * depth
    return append_update(pdf, {8: b"<< /Producer (nested) >>"}, trailer_extra=nested)


def overlay_text(text: str) -> bytes:
    """A form XObject body that paints white over the text and writes ``text`` instead."""
    data = b"1 1 1 rg 60 620 500 160 re f 0 0 0 rg " + page_content(1, (text,)).split(b"BT /F2")[0]
    return stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>", data
    )


def long_last_line(pdf: bytes, length: int) -> bytes:
    """``pdf`` with ``length`` bytes of one line before its final ``startxref``…``%%EOF``."""
    body, _, trailer = pdf.rstrip(b"\r\n").rpartition(b"startxref")
    return body + b"%" + b"A" * length + b"startxref" + trailer + b"\n"


def long_line_after_eof(pdf: bytes, length: int) -> bytes:
    return pdf + b"%" + b"z" * length + b"%%EOF\n"


def many_revisions(pdf: bytes, count: int) -> bytes:
    """``pdf`` with ``count`` empty incremental updates, each a valid xref section and trailer."""
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    for _ in range(count):
        offset = len(out)
        out += (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %d /Root %s /Prev %d >>\n"
                b"startxref\n%d\n%%%%EOF\n" % (size, root, previous, offset))
        previous = offset
    return bytes(out)
