"""Files people download or view, with a Chinese file name done properly.

``Content-Disposition: attachment`` with an ASCII fallback ``filename`` and the real name in
RFC 6266 / RFC 8187 ``filename*=UTF-8''…`` form, ``nosniff`` from the security headers, and
``no-store``: documents are personal (SECURITY.md v5.0.0-3.2.1, 5.4.2, 14.3.2).

Viewing in the browser (查看) is ``inline``, and only for PDFs whose source the
portal vouches for: documents it generated and sealed itself (receipts) and agencies'
documents whose seal it validated on delivery and whose bytes it re-checks against their
SHA-256 on every read. A PDF anyone uploaded (the /verify page's files) is never served at
all, and every other file stays an attachment. An inline PDF carries ``nosniff`` (it is shown
as a PDF or not at all) and its own CSP, ``sandbox`` with nothing allowed and no sources: the
browser's PDF viewer still draws it, but nothing in the file can run script with the
portal's origin, submit forms, open windows or load anything; a QR scan in WeChat's or
Alipay's in-app browser opens the same URL, and where that browser cannot draw PDFs it offers
to open the file with another app (下载 always works).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    fallback = _UNSAFE.sub("_", filename).strip("_") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "content-disposition": content_disposition(filename),
        "cache-control": "no-store",
    })


OFD_MEDIA_TYPE = "application/ofd"
"""The media type OFD readers (数科, 福昕 OFD) register for GB/T 33190 files."""


def pdf_attachment(data: bytes, filename: str) -> Response:
    return attachment(data, filename, "application/pdf")


INLINE_PDF_POLICY = "sandbox; default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"


def pdf_inline(data: bytes, filename: str) -> Response:
    """A PDF the portal vouches for, shown in the browser (module docstring)."""
    return Response(data, media_type="application/pdf", headers={
        "content-disposition": content_disposition(filename).replace("attachment;", "inline;", 1),
        "content-security-policy": INLINE_PDF_POLICY,
        "cache-control": "no-store",
    })
