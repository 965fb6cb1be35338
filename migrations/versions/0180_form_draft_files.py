"""Attachments that passed the checks are kept with a form's draft (across a fresh login, or
another field's error), so they need not be chosen again; deleted with the draft.

Revision ID: 0180
Revises: 0170
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0180"
down_revision = "0170"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_draft_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("form_drafts.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("draft_id", "position"),
    )
    op.create_index("ix_form_draft_files_draft_id", "form_draft_files", ["draft_id"])


def downgrade() -> None:
    op.drop_index("ix_form_draft_files_draft_id", table_name="form_draft_files")
    op.drop_table("form_draft_files")
