"""Pruning the tables that anonymous requests fill, so none of them grows without bound
(SECURITY.md "Deployment configuration"), and deleting personal
information once the period the personal-information notice states for it ends (PIPL art. 19;
the periods are ``portal.retention``'s, which ``/privacy`` renders).

- ``web_sessions``: every ``POST /login`` writes one (the login's state and PKCE verifier).
  A session is useless once ended, idle past the idle timeout or past its absolute lifetime
  (``web.session`` refuses it then), so its row goes.
- ``payment_security_events``: a refused payment callback is evidence of an attack or a
  fault; kept for 180 days, the six months China's Cybersecurity Law (art. 21) asks of network
  logs, then removed.
- ``rate_limit_windows``: a window matters only while it runs; a day later it goes.
- ``form_drafts``: what was typed into a legal act's form across a fresh login, a day after it
  was kept (``services.form_drafts``);
- ``outbox_messages`` with their ``outbox_attempts``: a notification sent or given up on,
  ``NOTIFICATION_MESSAGES`` after it was created (one still being retried stays);
- ``inbox_notices``: an in-portal notice, ``NOTICES`` after it was created;
- ``publication_subjects``: whom a published item concerns, as soon as the item is no longer
  public (withdrawn, or its window ended): nobody can object to it any more;
- ``verification_reports``: when they expire (``verification_reports.prune``, which storing a
  report also runs).

Rows of legal significance are never touched here. How fast each table can fill is bounded
separately, per client (``POST /login`` and refused callbacks are rate-limited per address),
so between two rounds it stays small. The worker runs ``prune`` every
``INTERVAL_SECONDS`` (``workers.housekeeping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.channels.base import DeliveryStatus
from portal.models.outbox import Notice, OutboxAttempt, OutboxMessage
from portal.models.payments import PaymentSecurityEvent
from portal.models.publicity import Publication, PublicationSubject
from portal.models.sessions import WebSession
from portal.retention import NOTICES, NOTIFICATION_MESSAGES, RATE_WINDOWS, SECURITY_EVENTS
from portal.services import form_drafts, rate_limits, verification_reports

INTERVAL_SECONDS = 600
SECURITY_EVENT_RETENTION = SECURITY_EVENTS
RATE_WINDOW_RETENTION = RATE_WINDOWS
_FINAL = (DeliveryStatus.DELIVERED.value, DeliveryStatus.PERMANENT_FAILURE.value)


@dataclass(frozen=True)
class Pruned:
    web_sessions: int
    security_events: int
    rate_windows: int
    messages: int
    notices: int
    publication_subjects: int
    verification_reports: int
    drafts: int

    @property
    def total(self) -> int:
        return sum(vars(self).values())


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def prune(db: AsyncSession, *, now: datetime, idle: timedelta, absolute: timedelta) -> Pruned:
    """Delete what no request can use any more; ``idle``/``absolute`` are the sessions'."""
    sessions = await db.execute(delete(WebSession).where(or_(
        WebSession.ended_at.is_not(None), WebSession.last_seen_at < now - idle,
        WebSession.created_at < now - absolute)))
    events = await db.execute(delete(PaymentSecurityEvent).where(
        PaymentSecurityEvent.occurred_at < now - SECURITY_EVENT_RETENTION))
    windows = await rate_limits.prune(db, now=now, older_than=RATE_WINDOW_RETENTION)
    old_messages = select(OutboxMessage.id).where(
        OutboxMessage.status.in_(_FINAL), OutboxMessage.created_at < now - NOTIFICATION_MESSAGES)
    await db.execute(delete(OutboxAttempt).where(OutboxAttempt.message_id.in_(old_messages)))
    messages = await db.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old_messages)))
    notices = await db.execute(delete(Notice).where(Notice.created_at < now - NOTICES))
    no_longer_public = select(Publication.id).where(or_(
        Publication.withdrawn_at.is_not(None), Publication.public_until <= now))
    subjects = await db.execute(delete(PublicationSubject).where(
        PublicationSubject.publication_id.in_(no_longer_public)))
    reports = await verification_reports.prune(db, now=now)
    drafts = await form_drafts.prune(db, now=now)
    return Pruned(_count(sessions), _count(events), windows, _count(messages), _count(notices),
                  _count(subjects), reports, drafts)
