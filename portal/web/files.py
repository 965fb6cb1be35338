"""Uploaded documents to verify at the web edge: read within limits, checked by content, never by name.

Uploads (SECURITY.md, "Uploads and PDFs"; ASVS v5.0.0-5.1.1, 5.2.2): the file is the one part
of a multipart form, read into memory up to ``MAX_DOCUMENT_BYTES`` (the body as a whole is
already bounded by ``BodyLimitMiddleware``; Starlette's spooled temporary file is closed, and
so deleted, before the verifier sees the bytes). What the file *is* is decided by its content,
never by its name or the browser's media type: a PDF has the ``%PDF-`` header where PDF
readers look for it (the first 1024 bytes), an OFD (GB/T 33190) is a ZIP package and starts
with a local file header; then the verifier's strict parse. A file the parse rejects as
neither, damaged or encrypted is an input error (``refuse_unreadable``), not a report.

The public verification page and the API share these checks and one per-client rate limit
bucket (``verification_limit``), so a client cannot double its budget by using both.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

from portal.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from portal.services import rate_limits
from portal.settings import Settings
from signing import FileProblem, VerificationReport

__all__ = ["MAX_DOCUMENT_BYTES", "read_document_upload", "refuse_unreadable", "verification_limit"]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""The largest PDF or OFD accepted for verification (the verifier's own limit,
``VerificationContext``)."""
PDF_MAGIC = b"%PDF-"
OFD_MAGIC = b"PK\x03\x04"
_MAGIC_WINDOW = 1024


def verification_limit(settings: Settings) -> rate_limits.Limit:
    """Uploads per client per minute, page and API together."""
    return rate_limits.Limit("pdf_verification", requests=settings.signing.verify_uploads_per_minute,
                             window_seconds=60)


async def read_document_upload(request: Request, field: str = "file",
                               max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of the PDF or OFD in the multipart ``field``, or a ``PortalError`` with the
    code to show: ``file_missing``, ``file_empty``, ``payload_too_large`` or ``not_pdf``
    (the code clients know; it now means "neither PDF nor OFD")."""
    async with request.form(max_files=1, max_fields=20) as form:
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
            raise BadRequest(code="file_missing")
        data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge()
    if not data:
        raise BadRequest(code="file_empty")
    if PDF_MAGIC not in data[:_MAGIC_WINDOW] and not data.startswith(OFD_MAGIC):
        raise UnsupportedMediaType(code="not_pdf")
    return data


def refuse_unreadable(report: VerificationReport) -> None:
    """Raise the input error for a file the verifier could not even open as a PDF or OFD."""
    if report.problem in (FileProblem.NOT_PDF, FileProblem.MALFORMED):
        raise UnsupportedMediaType(code="not_pdf")
    if report.problem is FileProblem.ENCRYPTED:
        raise UnsupportedMediaType(code="pdf_encrypted")
    if report.problem is FileProblem.TOO_LARGE:
        raise PayloadTooLarge()

