"""The sandbox payment platform's wire protocol, shared by the platform and its client.

The sandbox stands for an outside system, so the two sides only share this description
(the real platforms' adapters get theirs from the platform's documentation):

- **Keys.** The platform holds an Ed25519 key pair in its key directory
  (``sandbox-platform-key.pem``, PKCS#8, mode 0600; ``sandbox-platform-pub.pem``). The portal
  is configured with the public key only.
- **Merchant authentication.** The portal calls the API with ``Authorization: Bearer <key>``.
- **Signed messages.** Every API answer, every notification and every statement carries
  ``X-Sandbox-Timestamp`` (Unix seconds), ``X-Sandbox-Nonce`` (32 hex digits, new for every
  delivery) and ``X-Sandbox-Signature``: base64 of the Ed25519 signature of
  ``timestamp + "\\n" + nonce + "\\n" + body`` (the exact body bytes). The receiver refuses a
  timestamp more than 300 s from its clock.
- **Orders** are JSON objects with the fields of `ORDER_FIELDS`; amounts are integer fen,
  instants ISO 8601 in UTC.
- **Notifications** are POSTed to the order's ``notify_url`` as ``{"notification_id": …,
  "order": {…}}``. The portal answers HTTP 200 ``{"code": "SUCCESS"}`` to stop them; any
  other answer (or none) is retried later with the same notification id.
- **Statements** are CSV: a first line ``# statement <YYYY-MM-DD> count=<n> total_fen=<t>``,
  then the header `STATEMENT_COLUMNS` and one row per successful payment of that China date.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from payments.callbacks import check_nonce, check_timestamp, verify_ed25519
from payments.errors import BadSignature, PlatformMisconfigured

__all__ = [
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "ORDER_FIELDS",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "STATEMENT_COLUMNS",
    "load_or_create_key",
    "load_public_key",
    "sign",
    "verify",
]

HEADER_TIMESTAMP = "x-sandbox-timestamp"
HEADER_NONCE = "x-sandbox-nonce"
HEADER_SIGNATURE = "x-sandbox-signature"
PRIVATE_KEY_FILE = "sandbox-platform-key.pem"
PUBLIC_KEY_FILE = "sandbox-platform-pub.pem"
ORDER_FIELDS = (
    "platform_order_id",
    "order_id",
    "payment_code",
    "amount_fen",
    "status",
    "expires_at",
    "paid_at",
    "serial",
)
STATEMENT_COLUMNS = ("serial", "platform_order_id", "order_id", "payment_code", "amount_fen", "paid_at")


def _message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body


def sign(key: Ed25519PrivateKey, body: bytes, now: datetime) -> dict[str, str]:
    """The three signature headers for ``body``, with a fresh nonce."""
    timestamp = str(int(now.timestamp()))
    nonce = secrets.token_hex(16)
    signature = base64.b64encode(key.sign(_message(timestamp, nonce, body))).decode()
    return {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce, HEADER_SIGNATURE: signature}


def verify(
    key: Ed25519PublicKey, headers: Mapping[str, str], body: bytes, now: datetime
) -> tuple[datetime, str]:
    """Check signature and timestamp window; return (signed_at, nonce). ``headers`` lower-case."""
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise BadSignature("timestamp header missing or not Unix seconds")
    verify_ed25519(key, _message(timestamp, nonce, body), headers.get(HEADER_SIGNATURE))
    check_nonce(nonce)
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    check_timestamp(signed_at, now)
    return signed_at, nonce


def load_or_create_key(key_dir: Path) -> Ed25519PrivateKey:
    """The platform's private key from ``key_dir``, generated there (0600) on first use."""
    key_dir.mkdir(parents=True, exist_ok=True)
    private_path = key_dir / PRIVATE_KEY_FILE
    if private_path.exists():
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise PlatformMisconfigured(f"{private_path.name} is not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (key_dir / PUBLIC_KEY_FILE).write_bytes(public_pem)
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """The platform's public key from its PEM text."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise PlatformMisconfigured("the configured sandbox platform key is not an Ed25519 public key")
    return key
