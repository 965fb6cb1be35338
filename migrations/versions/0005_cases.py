"""Cases, their parties and officers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=False, index=True),
        sa.Column("agency_case_number", sa.String(100), nullable=False),
        sa.Column("case_type", sa.String(40), nullable=False),
        sa.Column("matter", sa.String(500), nullable=False),
        sa.Column("hearing_right", sa.Boolean, nullable=False),
        sa.Column("electronic_monitoring", sa.Boolean, nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agency_id", "agency_case_number"),
    )
    op.create_table(
        "case_parties",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("parties.id"), nullable=False, index=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "party_id"),
    )
    op.create_table(
        "case_officers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("credential_number", sa.String(50), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_officers")
    op.drop_table("case_parties")
    op.drop_table("cases")
