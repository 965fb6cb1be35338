"""Rights exercised through the portal: submissions with their attachments, receipts and the
agency's acknowledgements (append-only: PostgreSQL triggers refuse UPDATE and DELETE, as for
the evidence log), and the agencies' webhook registrations.

Revision ID: 0060
Revises: 0040
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0060"
down_revision = "0040"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_RECORD_TABLES = ("submissions", "submission_attachments", "submission_receipts",
                  "submission_acknowledgements")


def _submission(**kwargs: bool) -> sa.Column:
    return sa.Column("submission_id", BigId, sa.ForeignKey("submissions.id"), nullable=False, **kwargs)


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False, index=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("notice_seq", sa.Integer),
        sa.Column("window_kind", sa.String(20)),
        sa.Column("window_last_day", sa.Date),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("submitted_by_person_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "submission_attachments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _submission(),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("submission_id", "position"),
    )
    op.create_table(
        "submission_receipts",
        sa.Column("id", sa.Integer, primary_key=True),
        _submission(unique=True),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "submission_acknowledgements",
        sa.Column("id", sa.Integer, primary_key=True),
        _submission(unique=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "agency_webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=False, unique=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary, nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION submission_record_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$ "
        "LANGUAGE plpgsql"
    )
    for table in _RECORD_TABLES:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION submission_record_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _RECORD_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION submission_record_append_only()")
    op.drop_table("agency_webhooks")
    for table in reversed(_RECORD_TABLES):
        op.drop_table(table)
