"""Every legal act exactly once: a submission keeps the nonce of the one-time token of the
form it came from, unique, so a form sent twice (a double tap, a refresh, Back and submit
again) cannot be recorded twice (``portal.web.form_tokens``).

Revision ID: 0160
Revises: 0150
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0160"
down_revision = "0150"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("form_token", sa.String(length=32), nullable=True))
    op.create_index("ix_submissions_form_token", "submissions", ["form_token"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_submissions_form_token", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("form_token")
