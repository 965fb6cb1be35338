"""The operator's holiday table (``portal calendar load``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_days",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),
    )


def downgrade() -> None:
    op.drop_table("holiday_days")
