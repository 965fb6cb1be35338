"""Files people download: always an attachment, with a Chinese file name done properly.

``Content-Disposition: attachment`` with an ASCII fallback ``filename`` and the real name in
RFC 6266 / RFC 8187 ``filename*=UTF-8''…`` form, ``nosniff`` from the security headers, and
``no-store``: documents are personal (SECURITY.md v5.0.0-3.2.1, 5.4.2, 14.3.2).
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


def pdf_attachment(data: bytes, filename: str) -> Response:
    return attachment(data, filename, "application/pdf")
