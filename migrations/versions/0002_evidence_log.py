"""The legal event log (hash-chained, append-only) and its chain heads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evidence_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("chain", "seq"),
    )
    op.create_table(
        "evidence_chain_heads",
        sa.Column("chain", sa.String(80), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses to change or remove evidence (GD art. 62(3)).
        op.execute(
            "CREATE FUNCTION evidence_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'evidence_events is append-only: % refused', TG_OP; END $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER evidence_events_append_only BEFORE UPDATE OR DELETE ON evidence_events "
            "FOR EACH ROW EXECUTE FUNCTION evidence_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_events_append_only ON evidence_events")
        op.execute("DROP FUNCTION evidence_events_append_only()")
    op.drop_table("evidence_chain_heads")
    op.drop_table("evidence_events")
