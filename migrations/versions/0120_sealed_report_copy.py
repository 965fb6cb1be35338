"""The sealed PDF of a verification report, kept with the report (before, every download
sealed it again, one HSM signature and one TSA request each, unlimited). Pruned with the row.

Revision ID: 0120
Revises: 0110
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0120"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verification_reports") as batch:
        batch.add_column(sa.Column("sealed_pdf", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verification_reports") as batch:
        batch.drop_column("sealed_pdf")
