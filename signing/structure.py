"""Cheap checks of a PDF's outline before any parser sees it, and opening a party's attachment.

pyHanko's cost on a hostile file is not bounded by its size alone (measured on hostile files):
it finds the trailer by reading the file backwards one byte at a time until a line break,
so a file whose last line is megabytes long costs about a second per megabyte before it is
refused; and it follows every incremental update, so 98,000 revisions of a few bytes each
cost half a minute. A long line elsewhere costs nothing measurable (a 3 MB string object opens
in milliseconds), so it is the lines at the end that are bounded. ``structural_problem``
looks only at counts and the last kilobyte — a few milliseconds for the largest file
accepted — and refuses:

* more than ``max_bytes`` (``TOO_LARGE``); no ``%PDF-`` in the first kilobyte (``NOT_PDF``);
* no ``%%EOF``, or no ``startxref`` before it, in the last kilobyte, where PDF readers look
  for them (``MALFORMED``: an upload cut short);
* a trailer a reader cannot find in a few short lines: the last ``%%EOF`` and the last
  ``startxref`` before it must each start a line in the last kilobyte (``ABNORMAL_STRUCTURE``);
* more than ``MAX_REVISIONS`` revisions, counted by the keywords that end or open one
  (``startxref``, ``trailer``, ``/XRef``) (``ABNORMAL_STRUCTURE``). Legitimate documents
  have a handful: a seal, a timestamp and the validation data are one each.

These checks only spare the workers absurd files quickly, with a message saying why; the
workers' limits (``signing.runner``) still bound whatever passes them.

``attachment_problem`` is what a party's PDF attachment must pass (it need not be signed): the
checks above, then a real parse under the same decode limits as verification, not encrypted,
with a document catalogue. It runs in the verification workers, never in the web process.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.report import FileProblem

__all__ = ["DECODE_LIMITS", "HEADER_WINDOW", "MAX_REVISIONS", "TRAILER_WINDOW", "attachment_problem",
           "is_ofd", "structural_problem"]

HEADER_WINDOW = 1024
"""PDF readers look for ``%PDF-`` within the first kilobyte."""
TRAILER_WINDOW = 1024
"""… and for ``%%EOF`` within the last (pyHanko among them)."""
MAX_REVISIONS = 200
"""Verifying a seal followed by 100 empty revisions takes 0.8 s, by 400 4.6 s, by 990 12.6 s
(the modification analysis looks at each): 200 is far above any real document's count."""
MiB = 1024 * 1024
DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=64 * MiB),
    document_budget=DocumentDecodeBudget(base_allowance=128 * MiB, max_ratio=50),
)
"""Streams that inflate beyond these are refused (``PdfDecodeLimitError``), in every parse."""


def structural_problem(data: bytes, max_bytes: int) -> FileProblem | None:
    """Why ``data`` is refused before parsing, or ``None``; an OFD package only by its size
    (``signing.ofd`` bounds its entries itself)."""
    if len(data) > max_bytes:
        return FileProblem.TOO_LARGE
    if is_ofd(data):
        return None
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        return FileProblem.NOT_PDF
    tail = data[-TRAILER_WINDOW:]
    end = tail.rfind(b"%%EOF")
    if end < 0:
        return FileProblem.MALFORMED
    start = tail.rfind(b"startxref", 0, end)
    if start < 0:
        return FileProblem.MALFORMED  # no trailer where readers look for it
    if not (_starts_line(tail, end) and _starts_line(tail, start)) or b"startxref" in tail[end:]:
        return FileProblem.ABNORMAL_STRUCTURE
    revisions = max(data.count(b"startxref"), data.count(b"trailer") + data.count(b"/XRef"))
    if revisions > MAX_REVISIONS:
        return FileProblem.ABNORMAL_STRUCTURE
    return None


def is_ofd(data: bytes) -> bool:
    """A ZIP whose first entry is the way OFD files start (a local file header)."""
    return data[:4] == b"PK\x03\x04"


def _starts_line(tail: bytes, index: int) -> bool:
    """Whether ``index`` (in the last kilobyte) is the start of a line that starts there."""
    return index >= 1 and tail[index - 1] in b"\r\n"


def attachment_problem(data: bytes, max_bytes: int) -> FileProblem | None:
    """Why a party's PDF attachment cannot be accepted, or ``None`` when it opens.

    ``RecursionError`` and ``MemoryError`` (and the worker's budget) are left to the caller,
    which reports them as the verification does."""
    problem = structural_problem(data, max_bytes)
    if problem is not None or is_ofd(data):
        return problem or FileProblem.NOT_PDF
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DECODE_LIMITS)
        if reader.encrypted:
            return FileProblem.ENCRYPTED
        return None if reader.root is not None else FileProblem.MALFORMED
    except (RecursionError, MemoryError):
        raise
    except Exception:  # any parse failure: the agency could not read it either
        return FileProblem.MALFORMED
