"""Drafts of legal acts' forms: what a person typed when the act needed a fresh login first
(``portal.web.form_drafts``). One draft per person and form (a newer one replaces it), given
back only to that person acting for the same party, deleted when the form is filed, and a day
after it was kept by the housekeeping round (``DRAFTS``). Attachments that passed the checks
are kept with it (``FormDraftFile``), so they need not be chosen again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import dialect_insert
from portal.models import FormDraft, FormDraftFile
from portal.retention import DRAFTS


async def keep(db: AsyncSession, *, person_id: int, acting_party_id: int, path: str,
               fields: dict[str, Any], now: datetime, files: Sequence[bytes] = ()) -> None:
    """Hold ``fields`` and accepted ``files`` for the person's form at ``path`` (replacing an
    older draft of it). One statement writes the draft whether or not one exists, so two posts
    of the same form at once (a double tap with a refused file) do not collide on the person
    and path: the second waits for the first and replaces what it kept."""
    values = {"acting_party_id": acting_party_id, "fields": fields, "created_at": now}
    upsert = dialect_insert(db, FormDraft).values(person_id=person_id, path=path, **values)
    draft_id = (await db.execute(upsert.on_conflict_do_update(
        index_elements=["person_id", "path"], set_=values).returning(FormDraft.id))).scalar_one()
    await db.execute(delete(FormDraftFile).where(FormDraftFile.draft_id == draft_id))
    for position, data in enumerate(files, start=1):
        db.add(FormDraftFile(draft_id=draft_id, position=position, data=data))
    await db.flush()


async def _draft(db: AsyncSession, person_id: int, acting_party_id: int, path: str,
                 now: datetime) -> FormDraft | None:
    return (await db.execute(select(FormDraft).where(
        FormDraft.person_id == person_id, FormDraft.path == path,
        FormDraft.acting_party_id == acting_party_id,
        FormDraft.created_at >= now - DRAFTS).execution_options(populate_existing=True))).scalar_one_or_none()


async def find(db: AsyncSession, *, person_id: int, acting_party_id: int, path: str,
               now: datetime) -> dict[str, Any] | None:
    """The fields of the person's draft of the form at ``path``, if one was kept for this
    acting party within ``DRAFTS``."""
    draft = await _draft(db, person_id, acting_party_id, path, now)
    return dict(draft.fields) if draft is not None else None


async def files(db: AsyncSession, *, person_id: int, acting_party_id: int, path: str,
                now: datetime) -> list[bytes]:
    """The accepted attachments kept with that draft, in order."""
    draft = await _draft(db, person_id, acting_party_id, path, now)
    if draft is None:
        return []
    return list((await db.execute(select(FormDraftFile.data).where(FormDraftFile.draft_id == draft.id)
                                  .order_by(FormDraftFile.position))).scalars())


async def discard(db: AsyncSession, *, person_id: int, path: str) -> None:
    mine = select(FormDraft.id).where(FormDraft.person_id == person_id, FormDraft.path == path)
    await db.execute(delete(FormDraftFile).where(FormDraftFile.draft_id.in_(mine)))
    await db.execute(delete(FormDraft).where(FormDraft.person_id == person_id, FormDraft.path == path))


async def prune(db: AsyncSession, *, now: datetime) -> int:
    """Delete drafts kept longer than ``DRAFTS``, with their files; how many drafts went."""
    old = select(FormDraft.id).where(FormDraft.created_at < now - DRAFTS)
    await db.execute(delete(FormDraftFile).where(FormDraftFile.draft_id.in_(old)))
    result = await db.execute(delete(FormDraft).where(FormDraft.created_at < now - DRAFTS))
    return int(getattr(result, "rowcount", 0) or 0)
