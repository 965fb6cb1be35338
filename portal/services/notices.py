"""In-portal notices: the store behind the inbox channel, and what the bell reads.

The worker delivers an in-portal notice by inserting it here, idempotently on the message's
dedupe key: if a worker crashes after storing a notice but before recording the attempt, the
re-run finds the existing row and answers its id, so a party never sees a notice twice even
though delivery as a whole is at-least-once. The notice's text was rendered by the
notifications library; titles and bodies are plain text and must be escaped when shown.

The bell reads ``unread_count`` and ``recent_notices``; "mark as read" is a state change, so
the pages call ``mark_read`` and ``mark_all_read`` only from a POST (SECURITY.md 3.5.1).

Each notice leads to the page its event is about (``link``, from its outbox message; issue
14): ``open_notice`` marks it read and answers that page, and a POST that opens the thing
itself (viewing or downloading a served document) marks every notice leading there read
(``mark_read_leading_to``). A plain GET of the page never does: no state change on GET. Every
query here is filtered by the acting party: another party's notice id is ``NotFound``, the same
answer as an id that does not exist (8.2.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import InboxNotice
from portal.database import database_now, insert_ignoring
from portal.errors import NotFound
from portal.models.outbox import Notice, OutboxMessage
from portal.services.notification_preferences import party_from_reference


@dataclass(frozen=True)
class NoticeView:
    """One notice as the bell shows it."""

    id: int
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    link: str | None = None
    """The page the notice is about; None: nowhere else than the notices page."""


# The notice's link is its outbox message's (same dedupe key, unique there), looked up inside
# the INSERT: no separate query for the batch's links. The key is bound a second time under its
# own name: a bind parameter used twice breaks SQLAlchemy's batched INSERT on asyncpg ("the server
# expects 18 arguments, 15 were passed"), and ``dedupe_key`` is reserved for the column.
_OUTBOX_LINK = (
    select(OutboxMessage.link)
    .where(OutboxMessage.dedupe_key == bindparam("message_key"))
    .scalar_subquery()
)


async def store_notices(db: AsyncSession, batch: Sequence[InboxNotice], *,
                        now: datetime | None = None) -> list[str]:
    """Insert each notice unless its dedupe key is already stored; return the notices' ids,
    in order. One statement of each kind for the whole batch: the worker stores a claim's
    notices together."""
    if not batch:
        return []
    created_at = now or await database_now(db)
    keys = [notice.dedupe_key for notice in batch]
    # the notices as parameters (one statement, batched by SQLAlchemy), not ``.values(rows)``:
    # a multi-row VALUES clause has no cache key and was compiled afresh for every batch
    stored = await db.execute(
        insert_ignoring(db, Notice, ["dedupe_key"])
        .values(link=_OUTBOX_LINK)
        .returning(Notice.dedupe_key, Notice.id),
        [{
            "party_id": party_from_reference(notice.party),
            "title": notice.title,
            "body": notice.body,
            "template_version": notice.template_version,
            "dedupe_key": notice.dedupe_key,
            "created_at": created_at,
            "message_key": notice.dedupe_key,  # the same key, for the link's lookup
        } for notice in batch],
    )
    ids = dict(stored.all())
    earlier = [key for key in keys if key not in ids]  # stored before: a re-run after a crash
    if earlier:
        ids.update((await db.execute(select(Notice.dedupe_key, Notice.id).where(
            Notice.dedupe_key.in_(earlier)))).all())
    return [f"notice:{ids[key]}" for key in keys]


async def store_notice(db: AsyncSession, notice: InboxNotice, *, now: datetime | None = None) -> str:
    """Insert the notice unless its dedupe key is already stored; return the notice's id."""
    [notice_id] = await store_notices(db, [notice], now=now)
    return notice_id


async def recent_notices(db: AsyncSession, party_id: int, *, limit: int = 20,
                         unread_only: bool = False) -> list[NoticeView]:
    """The party's newest notices (only those not yet read, if ``unread_only``), newest first."""
    query = select(Notice).where(Notice.party_id == party_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    rows = await db.execute(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
    return [
        NoticeView(row.id, row.title, row.body, row.created_at, row.read_at, row.link)
        for row in rows.scalars()
    ]


async def unread_count(db: AsyncSession, party_id: int) -> int:
    """How many of the party's notices were never marked read: the number on the bell."""
    query = select(func.count()).select_from(Notice).where(
        Notice.party_id == party_id, Notice.read_at.is_(None))
    return int((await db.execute(query)).scalar_one())


async def mark_read(db: AsyncSession, party_id: int, notice_id: int, *,
                    now: datetime | None = None) -> None:
    """Mark one of the party's notices read; marking it again keeps the first time.

    ``NotFound`` when the party has no such notice (another party's id included).
    """
    owned = await db.execute(
        select(Notice.read_at).where(Notice.id == notice_id, Notice.party_id == party_id))
    row = owned.first()
    if row is None:
        raise NotFound()
    if row.read_at is None:
        when = now or await database_now(db)
        await db.execute(update(Notice)
                         .where(Notice.id == notice_id, Notice.read_at.is_(None))
                         .values(read_at=when))


async def mark_all_read(db: AsyncSession, party_id: int, *, now: datetime | None = None) -> int:
    """Mark every unread notice of the party read; returns how many changed."""
    when = now or await database_now(db)
    changed = await db.execute(update(Notice)
                               .where(Notice.party_id == party_id, Notice.read_at.is_(None))
                               .values(read_at=when))
    return int(changed.rowcount)  # type: ignore[attr-defined]


async def open_notice(db: AsyncSession, party_id: int, notice_id: int) -> str:
    """Mark the party's notice read and answer where it leads (the notices page if nowhere)."""
    link = (await db.execute(select(Notice.link).where(
        Notice.id == notice_id, Notice.party_id == party_id))).first()
    if link is None:
        raise NotFound()
    await mark_read(db, party_id, notice_id)
    return link[0] or "/notices"


async def mark_read_leading_to(db: AsyncSession, party_id: int, link: str) -> None:
    """The party opened ``link`` itself (a POST): its notices leading there are read now."""
    when = await database_now(db)
    await db.execute(update(Notice).where(Notice.party_id == party_id, Notice.link == link,
                                          Notice.read_at.is_(None)).values(read_at=when))
