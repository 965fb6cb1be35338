"""Signed webhooks: how the portal signs what it POSTs to an agency, and how the agency checks it.

The agency registers a URL (``PUT /api/v1/webhook``) and receives a secret once. Each new
submission is then POSTed to the URL as JSON, with these headers::

    X-Portal-Event:        submission.created
    X-Portal-Delivery-Id:  3f9c…            (the same on every retry of one delivery)
    X-Portal-Signature:    t=1763880000,v1=5b1e…

``v1`` is the hex HMAC-SHA256, keyed with the secret (its UTF-8 bytes), of the ASCII
timestamp ``t`` (Unix seconds when this attempt was sent), a full stop, and the raw body bytes
exactly as received. The body repeats the delivery id (``delivery_id``) under the signature,
so the id cannot be swapped. To accept a delivery the receiver:

1. recomputes the HMAC over ``t + "." + body`` and compares it in constant time with ``v1``
   (several ``v1`` may be present while a secret is being replaced: any one may match);
2. refuses a ``t`` more than five minutes from its own clock (a captured request cannot be
   replayed later);
3. looks the signed ``delivery_id`` up among the ids it has processed: a known id is a
   replay or a retry whose first answer was lost — answer 2xx and do not process it again;
4. answers 2xx once the submission is safely stored. Anything else, or no answer within 10
   seconds, is retried after a random pause of at most 5 s, doubling with each failure up to
   30 min, until a 2xx.

``verify`` below does steps 1–3 and is what the portal's own tests use; it needs nothing but
the standard library, so an agency may copy this file as it is. ``seen`` is any set-like store
of processed ids (``set`` in memory; in production a table with a unique key, in the same
transaction that stores the submission).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, MutableSet
from dataclasses import dataclass
from typing import Any

__all__ = ["DELIVERY_HEADER", "EVENT_HEADER", "SIGNATURE_HEADER", "TOLERANCE_SECONDS",
           "DuplicateDelivery", "SignatureInvalid", "TimestampOutOfRange", "VerifiedDelivery",
           "WebhookError", "sign", "signature_header", "verify"]

SIGNATURE_HEADER = "X-Portal-Signature"
DELIVERY_HEADER = "X-Portal-Delivery-Id"
EVENT_HEADER = "X-Portal-Event"
TOLERANCE_SECONDS = 300


class WebhookError(Exception):
    """A delivery the receiver must not process.

    WebhookError
    ├── SignatureInvalid      header missing or malformed, or no ``v1`` matches: answer 400
    ├── TimestampOutOfRange   ``t`` too far from the receiver's clock: answer 400
    └── DuplicateDelivery     the delivery id was processed before: answer 2xx, do nothing
    """


class SignatureInvalid(WebhookError):
    pass


class TimestampOutOfRange(WebhookError):
    pass


class DuplicateDelivery(WebhookError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(delivery_id)
        self.delivery_id = delivery_id


@dataclass(frozen=True)
class VerifiedDelivery:
    delivery_id: str
    timestamp: int
    payload: Mapping[str, Any]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={int(timestamp)},v1={sign(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("malformed signature header")
    return timestamp, candidates


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, seen: MutableSet[str],
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> VerifiedDelivery:
    """Check one received delivery (steps 1–3 of the module docstring) and remember its id.

    ``headers`` as received (names in any case); ``body`` the raw bytes. Raises a
    ``WebhookError``; on success the id is added to ``seen`` and the parsed body returned."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, candidates = _parse(lowered.get(SIGNATURE_HEADER.lower(), ""))
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureInvalid("no signature matches")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise TimestampOutOfRange(f"signed at {timestamp}, now {int(current)}")
    payload = json.loads(body)
    delivery_id = payload.get("delivery_id") if isinstance(payload, dict) else None
    if not isinstance(delivery_id, str) or not delivery_id:
        raise SignatureInvalid("no delivery id in the signed body")
    header_id = lowered.get(DELIVERY_HEADER.lower())
    if header_id is not None and header_id != delivery_id:
        raise SignatureInvalid("delivery id header differs from the signed body")
    if delivery_id in seen:
        raise DuplicateDelivery(delivery_id)
    seen.add(delivery_id)
    return VerifiedDelivery(delivery_id, timestamp, payload)
