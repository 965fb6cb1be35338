"""The rows behind browser sessions: read one (ending it once idle or too old), save one, retire
old tokens. ``portal.web.session`` holds the cookie and calls these in its own short
transactions, outside the request's.

A row is keyed by the SHA-256 of the session's token (the cookie carries only the signed
token), exists only once a session holds something, and is never deleted: logout and expiry
set ``ended_at``, so a copied cookie is worthless afterwards (ASVS v5.0.0-7.4.1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import WebSession

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often, not on every request."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class StoredSession:
    """What a token's row holds; ``persisted`` False: no row (the session never held data)."""

    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    persisted: bool = False


async def load(db: AsyncSession, token: str, *, now: datetime, lifetimes: Lifetimes,
               touch: bool) -> StoredSession | None:
    """The session of ``token``; None once it has ended (logout, idle, absolute lifetime), and
    then an expired row is ended here. ``touch``: this request counts as activity."""
    row = await db.get(WebSession, token_hash(token))
    if row is None:
        return StoredSession()
    if row.ended_at is not None:
        return None
    if now - row.last_seen_at > lifetimes.idle or now - row.created_at > lifetimes.absolute:
        row.ended_at = now
        await db.flush()
        return None
    if touch and now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        await db.flush()
    return StoredSession(dict(row.data), row.created_at, persisted=True)


async def retire(db: AsyncSession, tokens: Sequence[str], *, now: datetime) -> None:
    """End the rows of tokens replaced at login or logout (a no-op for tokens without a row)."""
    await db.execute(
        update(WebSession)
        .where(WebSession.token_hash.in_([token_hash(t) for t in tokens]))
        .where(WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def save(db: AsyncSession, token: str, data: dict[str, Any], *, now: datetime) -> None:
    """Write the session's data under ``token``, creating its row on the first write."""
    digest = token_hash(token)
    row = await db.get(WebSession, digest)
    if row is None:
        db.add(WebSession(token_hash=digest, data=data, created_at=now, last_seen_at=now))
    else:
        row.data = dict(data)
        row.last_seen_at = now
    await db.flush()
