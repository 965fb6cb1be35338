"""pyhanko's reading of PDF arrays of references and integers, at the speed of ``re``.

pyhanko reads an array one element at a time: a whitespace scan a byte at a time, a 20-byte
peek to tell a reference (``12 0 R``) from a number, then the reference itself a byte at a
time, about 6 µs per element. A page tree's ``/Kids`` is such an array, one reference per
page, so reading a 100-page document's ``/Pages`` (``verify_pdf`` checks its page count)
cost about 0.6 ms, a tenth of verifying the document, which grows with the page count and
which bare pyhanko validation does not pay; ``/Annots``, ``/Fields`` and ``/ByteRange`` are
such arrays too.

``install()`` replaces ``pyhanko.pdf_utils.generic.ArrayObject.read_from_stream`` (the one
name ``read_object`` calls for ``[``) with ``read_array``: when the array holds nothing but
references and unsigned integers separated by spaces, tabs, line breaks or form feeds up to
its ``]``, as producers write them, the elements are taken with regular expressions and built
exactly as pyhanko builds them (``NumberObject``, ``IndirectObject`` on the same PDF handler,
each with the container reference), pyhanko's rule included that a reference is one only if
it fits its 20-byte peek. Anything else — a name, a real, a sign, a nested object, a comment,
a NUL, object number 0, elements not separated by whitespace — goes back to pyhanko's own
reader from the same position, so its errors and quirks stay what they were. The scan stops
at the first byte that cannot be part of such an array, so an array never costs more than its
own length (plus a read ahead that doubles from 256 bytes). Arrays in content streams are
left to pyhanko.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from pyhanko.pdf_utils import generic

__all__ = ["install", "read_array"]

_pyhanko_reader = generic.ArrayObject.read_from_stream
_SPACE = b" \t\n\r\f"
"""Whitespace all of pyhanko's readers agree on (its PDF whitespace also has NUL, Python's
``isspace``, which its reference reader uses, has vertical tab instead)."""
_RUN = re.compile(rb"[0-9R" + _SPACE + rb"]*")
_BODY = re.compile(rb"(?:[" + _SPACE + rb"]*(?:[0-9]+[" + _SPACE + rb"]+[0-9]+[" + _SPACE + rb"]+R|[0-9]+)"
                   rb"(?=[" + _SPACE + rb"]|\Z))*[" + _SPACE + rb"]*")
_ELEMENT = re.compile(rb"([0-9]+)[" + _SPACE + rb"]+([0-9]+)[" + _SPACE + rb"]+R|([0-9]+)")
_PEEK = 20
"""``read_object`` tells a reference from a number by matching the 20 bytes at the element."""
_FIRST_READ = 256


def read_array(stream: BinaryIO, container_ref: generic.Dereferenceable,
               in_content_stream: generic.ContentOpReading = generic.ContentOpReading.NO,
               ) -> generic.ArrayObject:
    """The array at ``stream``'s position (its ``[``), the stream left after its ``]``."""
    if in_content_stream:
        return _pyhanko_reader(stream, container_ref, in_content_stream=in_content_stream)
    start = stream.tell()
    body = _scan(stream)
    elements = _elements(body, container_ref) if body is not None else None
    if body is None or elements is None:
        stream.seek(start)
        return _pyhanko_reader(stream, container_ref, in_content_stream=in_content_stream)
    stream.seek(start + len(body) + 2)  # after "[", the body and "]"
    return generic.ArrayObject(elements)


def _scan(stream: BinaryIO) -> bytes | None:
    """What lies between ``[`` and ``]`` if it is only digits, ``R`` and whitespace."""
    size = _FIRST_READ
    chunk = stream.read(size)
    if chunk[:1] != b"[":
        return None
    chunk = chunk[1:]
    body = bytearray()
    while True:
        run = _RUN.match(chunk)
        length = run.end() if run else 0
        body += chunk[:length]
        if length < len(chunk):
            return bytes(body) if chunk[length : length + 1] == b"]" else None
        size *= 2
        chunk = stream.read(size)
        if not chunk:
            return None


def _elements(body: bytes, container_ref: generic.Dereferenceable) -> list[generic.PdfObject] | None:
    if _BODY.fullmatch(body) is None:
        return None
    elements: list[generic.PdfObject] = []
    for match in _ELEMENT.finditer(body):
        idnum, generation, number = match.groups()
        element: generic.PdfObject
        if number is not None:
            element = generic.NumberObject(number.decode("ascii"))
        elif match.end() - match.start() + 1 > _PEEK or int(idnum) == 0:
            return None  # pyhanko reads numbers and fails at the R, or refuses object 0
        else:  # the handler asked for each reference, as pyhanko does
            element = generic.IndirectObject(int(idnum), int(generation), container_ref.get_pdf_handler())
        element.container_ref = container_ref
        elements.append(element)
    return elements


def install() -> None:
    """Make pyhanko's object reader use ``read_array`` (idempotent)."""
    generic.ArrayObject.read_from_stream = staticmethod(read_array)  # type: ignore[method-assign,assignment]
