"""Notifications: outbox and attempts, in-portal notices, preferences, reminder deadlines.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = "('created', 'sending', 'delivered', 'temporary-failure', 'permanent-failure')"


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False, index=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("template_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("locked_by", sa.String(80), nullable=True),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(40), nullable=True),
        sa.CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        sa.CheckConstraint("channel IN ('inbox', 'email', 'sms')", name="channel_known"),
        sa.CheckConstraint("(status = 'sending') = (locked_by IS NOT NULL)", name="lease_iff_sending"),
        sa.CheckConstraint(
            "(next_attempt_at IS NULL) = (status IN ('delivered', 'permanent-failure'))",
            name="due_iff_pending",
        ),
    )
    op.create_table(
        "outbox_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", BigId, sa.ForeignKey("outbox_messages.id"), nullable=False),
        sa.Column("attempt_no", sa.Integer, nullable=False),
        sa.Column("party_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("worker_id", sa.String(80), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Index("ix_outbox_attempts_message_attempt", "message_id", "attempt_no", unique=True),
        sa.Index("ix_outbox_attempts_party_started", "party_id", "started_at"),
    )
    op.create_table(
        "inbox_notices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("template_version", sa.Integer, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Index("ix_inbox_notices_party_created", "party_id", "created_at"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("mobile", sa.String(20), nullable=True),
        sa.Column("email_enabled", sa.Boolean, nullable=False),
        sa.Column("sms_enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("NOT email_enabled OR email IS NOT NULL", name="email_needs_address"),
        sa.CheckConstraint("NOT sms_enabled OR mobile IS NOT NULL", name="sms_needs_number"),
    )
    op.create_table(
        "reminder_deadlines",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_ref", sa.String(120), nullable=False),
        sa.Column("deadline_ends_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acted_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Index("ix_reminder_deadlines_subject", "party_id", "kind", "subject_ref", unique=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Attempts are the record of what was sent: never rewritten. DELETE stays allowed so a
        # retention job can prune old ones; they are not evidence of legal significance.
        op.execute(
            "CREATE FUNCTION outbox_attempts_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'outbox_attempts is append-only: % refused', TG_OP; END $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER outbox_attempts_append_only BEFORE UPDATE ON outbox_attempts "
            "FOR EACH ROW EXECUTE FUNCTION outbox_attempts_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_attempts_append_only ON outbox_attempts")
        op.execute("DROP FUNCTION outbox_attempts_append_only()")
    for table in ("reminder_deadlines", "notification_preferences", "inbox_notices",
                  "outbox_attempts", "outbox_messages"):
        op.drop_table(table)
