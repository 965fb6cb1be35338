"""Per-purpose keys: one ``SECRET_KEY``, a separate key for each use, each under a key id.

Each key is HKDF-SHA256 (RFC 5869) of ``SECRET_KEY`` with ``portal|<purpose>|<key id>`` as
its info, so a key found for one purpose says nothing about another. Key ids start at ``1``;
``KEY_IDS=session=2,csrf=2`` rotates the session and CSRF keys (every session ends, every
open form must be reloaded) while the QR tokens printed on documents and the check codes
printed on fiscal receipts keep their keys and stay valid. Rotating those too is
possible but invalidates every printed copy: do it only if ``SECRET_KEY`` itself leaked.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PURPOSES = ("session", "csrf", "case_qr", "receipt_check", "legal_form")
"""session: the session cookie's signature; csrf: form tokens; case_qr: the token in a case's
QR code (``portal.cases.codes``); receipt_check: fiscal receipts' check codes; legal_form: the
one-time tokens of the forms that file a legal act (``portal.web.form_tokens``)."""


def derive(secret_key: str, purpose: str, key_id: str) -> bytes:
    """The 32-byte key for ``purpose`` under ``key_id``."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}")
    info = f"portal|{purpose}|{key_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key.encode())
