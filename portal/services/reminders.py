"""Deadline reminders: which deadlines are due for one, and queueing it exactly once.

Whoever computes a deadline (the case and fine services, later) registers it here with
``register_deadline``, and reports the party's act with ``mark_acted``. The reminder job asks
``due_deadline_ids`` and calls ``send_reminder`` for each, one transaction per deadline.

The rule (``reminder_due``): remind once at most two working days remain, counted with the
legal calendar — the working days after today up to and including the deadline's last day, so
a holiday week in between does not count and a 调休 Saturday does. A deadline registered when
less than that remains is reminded at once; an expired or acted-on one never. Around National
Day 2026 (1–7 October off), a deadline ending Friday 9 October is reminded on 30 September,
not on 7 October as weekday counting would have it.

Once per deadline is guaranteed by the outbox: the reminder's event id is derived from the
party, the deadline's kind and subject, and its end, and the outbox's dedupe key on it is
unique. ``reminded_at`` only keeps the job from looking at the same row again; a deadline that
is moved (a new end) is a new deadline and gets its own reminder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import Kind, Renderer
from portal.database import database_now, dialect_insert
from portal.legal_calendar import HolidayCalendar, china_date
from portal.models.outbox import ReminderDeadline
from portal.services import outbox

LEAD_WORKING_DAYS = 2
# Two working days never span more than this many calendar days (the longest rest spell in
# a Chinese year is about nine days), so rows further out need not be looked at.
_HORIZON = timedelta(days=31)
_LAST_INSTANT = timedelta(microseconds=1)


def last_day(ends_at: datetime) -> date:
    """The deadline's last day in China time; ``ends_at`` is 24:00 of it, exclusive."""
    return china_date(ends_at - _LAST_INSTANT)


def reminder_due(
    ends_at: datetime, now: datetime, calendar: HolidayCalendar, lead: int = LEAD_WORKING_DAYS
) -> bool:
    """Whether a reminder is due at ``now``: not expired, at most ``lead`` working days left."""
    if now >= ends_at:
        return False
    return calendar.working_days_between(china_date(now), last_day(ends_at)) <= lead


def reminder_event_id(party_id: int, kind: str, subject_ref: str, ends_at: datetime) -> str:
    """The outbox event id of the one reminder for this deadline."""
    identity = f"{party_id}|{kind}|{subject_ref}|{ends_at.isoformat()}"
    return "reminder:" + hashlib.sha256(identity.encode()).hexdigest()[:40]


def _context(facts: Mapping[str, object], ends_at: datetime) -> dict[str, object]:
    return {**facts, "deadline_date": last_day(ends_at)}


async def register_deadline(
    db: AsyncSession,
    *,
    party_id: int,
    kind: str,
    subject_ref: str,
    ends_at: datetime,
    facts: Mapping[str, object],
    renderer: Renderer,
    now: datetime | None = None,
) -> None:
    """Register (or move) a deadline. ``facts`` are the reminder's template variables except
    the date (``case_code``, ``agency_name``, ``deadline_name``); they are checked here, so a
    bad one fails the caller's transaction, not the job."""
    outbox.channel_contexts(renderer, event_id="check", kind=Kind.DEADLINE_REMINDER,
                            context=_context(facts, ends_at))
    statement = dialect_insert(db, ReminderDeadline).values(
        party_id=party_id, kind=kind, subject_ref=subject_ref, deadline_ends_at=ends_at,
        facts=dict(facts), created_at=now or await database_now(db),
    )
    await db.execute(statement.on_conflict_do_update(
        index_elements=["party_id", "kind", "subject_ref"],
        set_={"deadline_ends_at": ends_at, "facts": dict(facts), "reminded_at": None},
    ))


async def mark_acted(
    db: AsyncSession, *, party_id: int, kind: str, subject_ref: str, at: datetime
) -> bool:
    """Record that the party acted (stated, paid, applied): no reminder from now on."""
    result = await db.execute(
        update(ReminderDeadline)
        .where(ReminderDeadline.party_id == party_id, ReminderDeadline.kind == kind,
               ReminderDeadline.subject_ref == subject_ref, ReminderDeadline.acted_at.is_(None))
        .values(acted_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def withdraw_others(
    db: AsyncSession, *, party_id: int, kind: str, under: str, keep: set[str], at: datetime
) -> int:
    """Deadlines registered under the subject prefix ``under`` that no longer exist (the
    instalments of a plan the agency has since replaced): nothing to remind of any more."""
    stale = [row_id for row_id, ref in await db.execute(
        select(ReminderDeadline.id, ReminderDeadline.subject_ref).where(
            ReminderDeadline.party_id == party_id, ReminderDeadline.kind == kind,
            ReminderDeadline.subject_ref.startswith(under, autoescape=True),
            ReminderDeadline.acted_at.is_(None))) if ref not in keep]
    if stale:
        await db.execute(update(ReminderDeadline).where(ReminderDeadline.id.in_(stale)).values(acted_at=at))
    return len(stale)


async def due_deadline_ids(
    db: AsyncSession, *, now: datetime, calendar: HolidayCalendar, limit: int = 1000
) -> list[int]:
    """Ids of deadlines whose reminder is due and not yet queued, soonest first."""
    rows = await db.execute(
        select(ReminderDeadline.id, ReminderDeadline.deadline_ends_at)
        .where(ReminderDeadline.acted_at.is_(None), ReminderDeadline.reminded_at.is_(None),
               ReminderDeadline.deadline_ends_at > now,
               ReminderDeadline.deadline_ends_at <= now + _HORIZON)
        .order_by(ReminderDeadline.deadline_ends_at)
        .limit(limit)
    )
    return [row_id for row_id, ends_at in rows if reminder_due(ends_at, now, calendar)]


async def send_reminder(
    db: AsyncSession, deadline_id: int, *, now: datetime, calendar: HolidayCalendar,
    renderer: Renderer,
) -> bool:
    """Queue the reminder for one deadline if it is still due; False if nothing was queued."""
    row = (await db.execute(
        select(ReminderDeadline).where(ReminderDeadline.id == deadline_id)
        .with_for_update(skip_locked=True)
    )).scalar_one_or_none()
    if row is None or row.acted_at is not None or row.reminded_at is not None:
        return False
    if not reminder_due(row.deadline_ends_at, now, calendar):
        return False
    written = await outbox.enqueue(
        db,
        event_id=reminder_event_id(row.party_id, row.kind, row.subject_ref, row.deadline_ends_at),
        kind=Kind.DEADLINE_REMINDER,
        party_id=row.party_id,
        context=_context(row.facts, row.deadline_ends_at),
        renderer=renderer,
        now=now,
        link=f"/cases/{row.facts['case_code']}" if isinstance(row.facts.get("case_code"), str) else None,
    )
    row.reminded_at = now
    await db.flush()
    return bool(written)
