"""pyhanko's reading of PDF hexadecimal strings, at the speed of ``bytes`` methods.

pyhanko reads ``<...>`` one byte at a time through a generator (``stream.read(1)``, a
whitespace and comment check, a membership test per digit): half a microsecond or more per
hex digit. A signature's ``/Contents`` is such a string, its placeholder sized for the largest
value expected; a GB/T 38540 seal carries its picture and certificates and is reserved at
about 40,000 digits, so reading that one object (about 20 ms) cost a PDF seal three times
what checking its signatures did, and a PAdES signature's 17,000 digits about 4 ms.

``install()`` replaces ``pyhanko.pdf_utils.generic.read_hex_string_from_stream`` (the one name
``read_object`` calls) with ``read_hex_string``: when the string is hex digits and PDF
whitespace up to its ``>``, as every producer writes it, the digits are taken with
``bytes.translate`` and ``binascii.unhexlify`` and the result is built exactly as pyhanko
builds it (odd digit count padded with ``0``, ``pdf_string``); anything else — a comment, a
stray byte, no ``>`` before the end — goes back to pyhanko's own reader from the same
position, so its errors and quirks stay what they were. The scan stops at the first byte that
is neither a digit nor whitespace, so a string never costs more than its own length (plus a
read ahead that doubles from 256 bytes).
"""

from __future__ import annotations

import binascii
import re
from typing import BinaryIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

__all__ = ["install", "read_hex_string"]

_pyhanko_reader = generic.read_hex_string_from_stream
_HEX_RUN = re.compile(rb"[0-9A-Fa-f" + re.escape(PDF_WHITESPACE) + rb"]*")
_FIRST_READ = 256


def read_hex_string(stream: BinaryIO) -> generic.ByteStringObject | generic.TextStringObject:
    """The hex string at ``stream``'s position (its ``<``), the stream left after its ``>``."""
    start = stream.tell()
    body = bytearray()
    size = _FIRST_READ
    chunk = stream.read(size)[1:]  # the opening "<"
    consumed = 1
    while True:
        run = _HEX_RUN.match(chunk)
        length = run.end() if run else 0
        body += chunk[:length]
        consumed += length
        if length < len(chunk):
            closed = chunk[length : length + 1] == b">"
            break
        size *= 2
        chunk = stream.read(size)
        if not chunk:
            closed = False
            break
    if not closed:
        stream.seek(start)
        return _pyhanko_reader(stream)
    stream.seek(start + consumed + 1)
    digits = bytes(body).translate(None, PDF_WHITESPACE)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install() -> None:
    """Make pyhanko's object reader use ``read_hex_string`` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
