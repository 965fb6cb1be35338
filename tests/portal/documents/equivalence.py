"""Whether two PDFs from ``portal.documents`` show the same thing with the same fonts.

``payments.receipt_pdf.add_cjk_font`` shares one parse of the font between documents instead
of ``FPDF.add_font`` parsing it for each; the PDFs it gives must be the ones fpdf2 gives, but
for the FontBBox inside the embedded CFF font program (the face's instead of the subset's).
``drawn`` is everything else a reader uses: each page's content stream, and for each font its
name, encoding and ToUnicode maps, widths, and every glyph program of the embedded subset with
the sub-font it belongs to — for a TrueType face (the fallback for rare characters) the whole
embedded subset and its CID-to-glyph map, byte for byte.
"""

from __future__ import annotations

import io
from typing import Any

import pypdf
from fontTools.cffLib import CFFFontSet

from tests.pdf_objects import dictionary


def drawn(pdf: bytes) -> tuple[list[bytes], dict[str, Any]]:
    """The page contents and the fonts of ``pdf``, in a form to compare with ``==``."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [page.get_contents().get_data() for page in reader.pages]  # type: ignore[union-attr]
    fonts: dict[str, Any] = {}
    for page in reader.pages:
        for name, reference in dictionary(page, "/Resources", "/Font").items():
            font = reference.get_object()
            cid_font = font["/DescendantFonts"][0].get_object()
            descriptor = cid_font["/FontDescriptor"].get_object()
            encoding = font["/Encoding"].get_object()
            fonts[name] = (
                font["/BaseFont"],
                font["/ToUnicode"].get_object().get_data(),
                encoding.get_data() if isinstance(encoding, pypdf.generic.StreamObject) else encoding,
                list(cid_font["/W"]),
                _program(cid_font, descriptor),
            )
    return pages, fonts


def _program(cid_font: Any, descriptor: Any) -> Any:
    if "/FontFile3" in descriptor:  # CID-keyed CFF
        return glyph_programs(descriptor["/FontFile3"].get_object().get_data())
    return (descriptor["/FontFile2"].get_object().get_data(),
            cid_font["/CIDToGIDMap"].get_object().get_data())


def glyph_programs(cff: bytes) -> dict[str, tuple[int, list[Any]]]:
    """Glyph name (``cidNNNNN``) → (its font dictionary, its Type 2 charstring program)."""
    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(cff), None)
    top = fonts[fonts.fontNames[0]]
    programs = {}
    for index, name in enumerate(top.charset):
        charstring = top.CharStrings[name]
        charstring.decompile()
        programs[name] = (top.FDSelect[index], charstring.program)
    return programs
