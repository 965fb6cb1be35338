"""Nothing typed is lost: what a person typed into a legal act's form is kept across the fresh
login the act needs, for that person and that form, deleted when the form is filed or a day
later (``services.form_drafts``).

Revision ID: 0170
Revises: 0160
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0170"
down_revision = "0160"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("acting_party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("person_id", "path"),
    )
    op.create_index("ix_form_drafts_created_at", "form_drafts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_form_drafts_created_at", table_name="form_drafts")
    op.drop_table("form_drafts")
