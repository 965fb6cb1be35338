"""Notification tables: the outbox and its attempt log, in-portal notices, contact
preferences, and the deadlines the reminder job watches.

The outbox is how a notification becomes reliable without a distributed transaction: the
service that causes an event (a document arrived, a payment was confirmed) writes the messages
into ``outbox_messages`` in its own transaction, so they exist exactly when the event
committed. Workers drain it later. A row's life, as ``status``:

    created ──claim──▶ sending ──▶ delivered
       ▲                  │  ├───▶ permanent-failure
       │                  │  └───▶ temporary-failure ──(next_attempt_at)──▶ claimed again
       └── released, rate-limited (next_attempt_at moves; no attempt counted)

``next_attempt_at`` is set exactly while a row still needs work, and while it is ``sending``
it equals the lease's end: so one index answers "what is due now?", and a lease abandoned by a
crashed worker becomes due again by itself. Finished rows have it NULL. ``outbox_attempts``
records every attempt, append-only; it also feeds the rate limits (sends per party and overall).

``recipient`` and the preference columns hold e-mail addresses and mobile numbers: personal
data, never logged. ``context`` holds only the variables the row's channel may carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

STATUSES = ("created", "sending", "delivered", "temporary-failure", "permanent-failure")
# What a claim looks at: rows waiting for an attempt, and leased rows (taken only once their
# lease has run out, which ``next_attempt_at`` says).
PENDING = ("created", "temporary-failure", "sending")
CHANNELS = ("inbox", "email", "sms")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel_known"),
        CheckConstraint("(status = 'sending') = (locked_by IS NOT NULL)", name="lease_iff_sending"),
        CheckConstraint(
            "(next_attempt_at IS NULL) = (status IN ('delivered', 'permanent-failure'))",
            name="due_iff_pending",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    template_version: Mapped[int] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(String(300))
    """The portal page the event is about (``/mailbox/…``, ``/fines/…``): the notice links there."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(40))


class OutboxAttempt(Base):
    """One try to hand a message to its channel. Never updated; ``party_id`` and ``channel``
    are copied from the message so the rate-limit queries need no join."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (
        Index("ix_outbox_attempts_message_attempt", "message_id", "attempt_no", unique=True),
        Index("ix_outbox_attempts_party_started", "party_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_messages.id"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    party_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    worker_id: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(200))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))


class Notice(Base):
    """An in-portal notice (the bell). Plain text: escape it when showing it."""

    __tablename__ = "inbox_notices"
    __table_args__ = (Index("ix_inbox_notices_party_created", "party_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    template_version: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link: Mapped[str | None] = mapped_column(String(300))
    """Where the notice leads (its outbox message's ``link``); None: the notices page."""


class NotificationPreference(Base):
    """Which outside channels a party wants, and where. The in-portal notice is always on,
    so it has no switch."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("NOT email_enabled OR email IS NOT NULL", name="email_needs_address"),
        CheckConstraint("NOT sms_enabled OR mobile IS NOT NULL", name="sms_needs_number"),
    )

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    mobile: Mapped[str | None] = mapped_column(String(20))
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderDeadline(Base):
    """A deadline a party may miss, registered by whoever computed it (cases, fines).

    ``deadline_ends_at`` is the exclusive end instant from ``portal.legal_calendar``
    (24:00 China time of the last day). ``facts`` are the reminder template's variables
    except the date, which is derived from the end. ``acted_at`` set means nothing to remind
    of; ``reminded_at`` is when the reminder was queued (the outbox dedupe key is what makes
    it once only).
    """

    __tablename__ = "reminder_deadlines"
    __table_args__ = (
        Index("ix_reminder_deadlines_subject", "party_id", "kind", "subject_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_ref: Mapped[str] = mapped_column(String(120))
    deadline_ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
