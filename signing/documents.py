"""One entry point for any uploaded document: PDF (PAdES and SM2) or OFD (GB/T 33190).

The type is read from the content, never from a name: an OFD file is a ZIP package and starts
with a local file header, anything else goes to the PDF verifier (which refuses what is not a
PDF). Both return the same ``VerificationReport`` and never raise.
"""

from __future__ import annotations

from signing.ofd import verify_ofd
from signing.report import VerificationReport
from signing.structure import is_ofd
from signing.verify import VerificationContext, verify_pdf

__all__ = ["verify_document"]


def verify_document(data: bytes, context: VerificationContext, *,
                    outline_checked: bool = False) -> VerificationReport:
    """Verify ``data`` as OFD or PDF, whichever its first bytes say it is; ``outline_checked``
    as for ``verify_pdf``."""
    if is_ofd(data):
        return verify_ofd(data, context)
    return verify_pdf(data, context, outline_checked=outline_checked)
