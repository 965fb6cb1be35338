"""Drafts of legal acts' forms: what a person typed when the act needed a fresh login first
(``portal.web.form_drafts``). One draft per person and form (a newer one replaces it), given
back only to that person acting for the same party, deleted when the form is filed, and a day
after it was kept by the housekeeping round (``DRAFTS``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import FormDraft
from portal.retention import DRAFTS


async def keep(db: AsyncSession, *, person_id: int, acting_party_id: int, path: str,
               fields: dict[str, Any], now: datetime) -> None:
    """Hold ``fields`` for the person's form at ``path`` (replacing an older draft of it)."""
    await discard(db, person_id=person_id, path=path)
    db.add(FormDraft(person_id=person_id, acting_party_id=acting_party_id, path=path, fields=fields,
                     created_at=now))
    await db.flush()


async def find(db: AsyncSession, *, person_id: int, acting_party_id: int, path: str,
               now: datetime) -> dict[str, Any] | None:
    """The person's draft of the form at ``path``, if one was kept for this acting party within
    ``DRAFTS``."""
    draft = (await db.execute(select(FormDraft).where(
        FormDraft.person_id == person_id, FormDraft.path == path,
        FormDraft.acting_party_id == acting_party_id,
        FormDraft.created_at >= now - DRAFTS))).scalar_one_or_none()
    return dict(draft.fields) if draft is not None else None


async def discard(db: AsyncSession, *, person_id: int, path: str) -> None:
    await db.execute(delete(FormDraft).where(FormDraft.person_id == person_id, FormDraft.path == path))


async def prune(db: AsyncSession, *, now: datetime) -> int:
    """Delete drafts kept longer than ``DRAFTS``; how many went."""
    result = await db.execute(delete(FormDraft).where(FormDraft.created_at < now - DRAFTS))
    return int(getattr(result, "rowcount", 0) or 0)
