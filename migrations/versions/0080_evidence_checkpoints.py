"""Evidence checkpoints (RFC 3161 anchors of the chain heads) and TRUNCATE refused.

``evidence_checkpoints`` and ``evidence_checkpoint_heads`` are only added to; on PostgreSQL a
trigger refuses UPDATE and DELETE on them, as on ``evidence_events``. TRUNCATE fires no row
trigger, so it emptied the evidence log unseen: a statement trigger now refuses it
on the evidence tables and on the records of legal acts that are tied to the chains. (A
superuser can still switch triggers off with ``session_replication_role``; the test suite's
cleanup does, and ``portal evidence verify`` then reports what the checkpoints covered.)

Revision ID: 0080
Revises: 0070
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None

NO_TRUNCATE = (
    "evidence_events", "evidence_chain_heads", "evidence_checkpoints", "evidence_checkpoint_heads",
    "consents", "consent_revocations", "deliveries", "delivery_reads", "arrival_timestamps",
    "service_receipts", "paper_copy_requests", "fines", "payment_order_transitions", "payments",
    "payment_refunds", "fiscal_receipts", "publication_versions", "publication_withdrawals",
    "submissions", "submission_receipts", "submission_acknowledgements",
)  # fmt: skip
APPEND_ONLY = ("evidence_checkpoints", "evidence_checkpoint_heads")


def upgrade() -> None:
    op.create_table(
        "evidence_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("prev_digest", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("heads", sa.Integer, nullable=False),
        sa.Column("token_der", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", UTCDateTime(), nullable=False),
        sa.Column("tsa_name", sa.String(300), nullable=False),
    )
    op.create_table(
        "evidence_checkpoint_heads",
        sa.Column("checkpoint_id", sa.Integer, sa.ForeignKey("evidence_checkpoints.id"), primary_key=True),
        sa.Column("chain", sa.String(80), primary_key=True, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION refuse_truncate() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% holds records of legal acts: TRUNCATE refused', TG_TABLE_NAME; END $$ "
        "LANGUAGE plpgsql"
    )
    for table in NO_TRUNCATE:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()")
    op.execute(
        "CREATE FUNCTION refuse_change() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$ "
        "LANGUAGE plpgsql"
    )
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION refuse_change()")
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION refuse_truncate()")
    op.drop_table("evidence_checkpoint_heads")
    op.drop_table("evidence_checkpoints")
