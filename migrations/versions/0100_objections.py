"""Objections to data (数据异议, GD art. 49; FJ art. 15): a submission may concern a document
served or a published item (then it has no case), the agency's answer is a row of its own
(append-only like the other submission records, TRUNCATE refused), and a published version
records whom it concerns as keyed digests, so that they can object.

Revision ID: 0100
Revises: 0090
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0100"
down_revision = "0090"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_APPEND_ONLY = ("objection_answers",)
"""A record of a legal act; ``publication_subjects`` is not (it goes when its item stops being public)."""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("delivery_id", BigId, sa.ForeignKey(
            "deliveries.id", name="fk_submissions_delivery_id_deliveries")))
        batch.add_column(sa.Column("publication_id", BigId, sa.ForeignKey(
            "publications.id", name="fk_submissions_publication_id_publications")))
        batch.add_column(sa.Column("publication_version", sa.Integer))
        batch.create_index("ix_submissions_publication_id", ["publication_id"])
    op.create_table(
        "objection_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", BigId, sa.ForeignKey("submissions.id"), nullable=False, unique=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("corrected_version", sa.Integer),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "publication_subjects",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("publication_id", BigId, sa.ForeignKey("publications.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, index=True),
        sa.UniqueConstraint("publication_id", "version", "digest"),
    )
    if postgresql:
        for table in _APPEND_ONLY:  # the functions are migration 0060's and 0080's
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION submission_record_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.drop_table("publication_subjects")
    op.drop_table("objection_answers")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_publication_id")
        batch.drop_column("publication_version")
        batch.drop_column("publication_id")
        batch.drop_column("delivery_id")
        batch.alter_column("case_id", existing_type=sa.Integer, nullable=False)
