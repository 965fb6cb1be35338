"""Canonical content and hashes of legal events: the rules a verifier outside the portal needs.

A row's hash is SHA-256 over the UTF-8 bytes of the canonical JSON of
``{"actor", "chain", "kind", "occurred_at", "payload", "prev", "seq"}`` (keys sorted, no
spaces, non-ASCII kept), where ``occurred_at`` is ISO 8601 in UTC with microseconds and a
``Z`` (``2026-11-23T01:02:03.000004Z``) and ``payload`` is the payload's own canonical JSON
text. The first row of a chain has ``prev`` = 64 zeros. Plain functions on values, so a court
expert can re-implement and check them from this docstring alone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def instant_text(instant: datetime) -> str:
    if instant.utcoffset() is None:
        raise ValueError("naive datetime refused")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(*, chain: str, seq: int, kind: str, occurred_at: datetime, actor: str,
               payload: str, prev_hash: str) -> str:
    content = canonical_json({
        "actor": actor,
        "chain": chain,
        "kind": kind,
        "occurred_at": instant_text(occurred_at),
        "payload": payload,
        "prev": prev_hash,
        "seq": seq,
    })
    return hashlib.sha256(content.encode()).hexdigest()
