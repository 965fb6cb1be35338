"""Signed powers of attorney (授权委托书, APL art. 64(3)): one per delegation, only ever added
(PostgreSQL refuses UPDATE, DELETE and TRUNCATE, as for the other records of legal acts).

Revision ID: 0110
Revises: 0100
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0110"
down_revision = "0100"
branch_labels = None
depends_on = None

_TABLE = "representation_authorisations"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("representation_id", sa.Integer, sa.ForeignKey("representations.id"), nullable=False,
                  unique=True),
        sa.Column("signed_by_person_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    )
    if op.get_bind().dialect.name == "postgresql":  # the functions are migration 0060's and 0080's
        op.execute(f"CREATE TRIGGER {_TABLE}_append_only BEFORE UPDATE OR DELETE ON {_TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION submission_record_append_only()")
        op.execute(f"CREATE TRIGGER {_TABLE}_no_truncate BEFORE TRUNCATE ON {_TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {_TABLE}_no_truncate ON {_TABLE}")
        op.execute(f"DROP TRIGGER {_TABLE}_append_only ON {_TABLE}")
    op.drop_table(_TABLE)
