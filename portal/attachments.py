"""Files a party attaches to a submission: what a file is, is decided by its bytes, never its name.

A statement or an application may carry evidence: scans, photos, PDFs (APL art. 45: the
agency must hear what the party brings). The rules (SECURITY.md, "Uploads and PDFs"; ASVS
v5.0.0-5.1.1, 5.2.2, 5.3.2):

- at most ``MAX_FILES`` files, each at most ``MAX_FILE_BYTES``, together at most
  ``MAX_TOTAL_BYTES`` (inside the request body limit, ``Settings.max_body_bytes``);
- a file is PDF, JPEG or PNG by its magic bytes *and* a real parse: a PDF must open in a PDF
  reader and not be encrypted (the agency could not read it), an image must open and verify in
  Pillow (which also refuses decompression bombs). The name and the browser's media type are
  ignored: a PNG named ``证据.pdf`` is accepted as the PNG it is, a text file named ``.pdf``
  is refused;
- a PDF is untrusted input for a parser whose cost a hostile file can drive up (a long last
  line, tens of thousands of revisions): it is opened by ``open_pdf``, which the caller
  points at the verification workers (``Notary.attachment_problem``: cheap structural checks
  first, then a parse within the workers' time and memory limits, fairly shared between
  clients), never in the web process. A PDF refused as too complex or abnormal says so
  (``too_complex``), not "damaged";
- the party's file names are not kept: attachments are ``附件1.png`` … in the order given, and
  the bytes are stored content-addressed under their SHA-256 (``portal.blobstore``).

Functions on bytes; ``checked`` parses images in a thread and has PDFs opened by the
function it is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

from portal.errors import ValidationFailed
from signing import FileProblem

__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "Attachment", "AttachmentRefused",
           "MediaType", "PdfOpener", "checked", "sniff"]

PdfOpener = Callable[[bytes], Awaitable[FileProblem | None]]
"""Why a PDF does not open (``signing.structure.attachment_problem``), or ``None``."""

MiB = 1024 * 1024
MAX_FILES = 5
MAX_FILE_BYTES = 10 * MiB
MAX_TOTAL_BYTES = 20 * MiB
_PDF_HEADER_WINDOW = 1024  # PDF readers look for %PDF- within the first kilobyte
_MAX_IMAGE_PIXELS = 50_000_000  # a 8000 x 6000 photo is 48 million: more is a bomb, not a scan
_TOO_COMPLEX = {FileProblem.TOO_COMPLEX, FileProblem.TOO_DEEP, FileProblem.ABNORMAL_STRUCTURE}


class MediaType(StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.value]


@dataclass(frozen=True)
class Attachment:
    """One accepted file; ``position`` counts from 1 in the order the party gave them."""

    position: int
    media_type: MediaType
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def internal_name(self) -> str:
        return internal_name(self.position, self.media_type)


def internal_name(position: int, media_type: MediaType | str) -> str:
    return f"附件{position}.{MediaType(media_type).extension}"


class AttachmentRefused(ValidationFailed):
    """The attachments break a rule: ``code`` says which, ``position`` which file (if one)."""

    def __init__(self, code: str, position: int | None = None) -> None:
        super().__init__({"attachments": code})
        self.refusal = code
        self.position = position


def sniff(data: bytes) -> MediaType | None:
    """The type the magic bytes claim, before any parse."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return MediaType.PDF
    return None


def _image_opens(data: bytes, expected: MediaType) -> bool:
    formats = {MediaType.PNG: "PNG", MediaType.JPEG: "JPEG"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if image.format != formats[expected] or width * height > _MAX_IMAGE_PIXELS:
                    return False
                image.verify()
        return True
    except Exception:  # Pillow raises many kinds for a broken or hostile file
        return False


async def _refusal(media_type: MediaType, data: bytes, open_pdf: PdfOpener) -> str | None:
    """Why a file of this type does not parse (a refusal code), or ``None``."""
    if media_type is MediaType.PDF:
        problem = await open_pdf(data)
        if problem is None:
            return None
        return "too_complex" if problem in _TOO_COMPLEX else "damaged"
    return None if await asyncio.to_thread(_image_opens, data, media_type) else "damaged"


async def checked(files: Sequence[bytes], open_pdf: PdfOpener) -> tuple[Attachment, ...]:
    """The files as attachments, or ``AttachmentRefused`` for the first rule broken.

    ``files`` are the uploads in order, each read up to ``MAX_FILE_BYTES + 1`` bytes (so an
    oversized one is seen as such without reading it all). Empty files are refused. The
    counts and sizes are checked for all files before any is parsed."""
    if len(files) > MAX_FILES:
        raise AttachmentRefused("too_many_files")
    if sum(len(data) for data in files) > MAX_TOTAL_BYTES:
        raise AttachmentRefused("total_too_large")
    accepted = []
    for position, data in enumerate(files, start=1):
        if not data:
            raise AttachmentRefused("file_empty", position)
        if len(data) > MAX_FILE_BYTES:
            raise AttachmentRefused("file_too_large", position)
        media_type = sniff(data)
        if media_type is None:
            raise AttachmentRefused("unsupported_type", position)
        accepted.append(Attachment(position, media_type, data))
    for attachment in accepted:
        refusal = await _refusal(attachment.media_type, attachment.data, open_pdf)
        if refusal is not None:
            raise AttachmentRefused(refusal, attachment.position)
    return tuple(accepted)
