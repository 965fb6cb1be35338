"""Notices that lead somewhere: each outbox message and in-portal notice keeps the
portal page its event is about (a mailbox item, a fine, the consent page, a case), so the
notice links to it and opening it from there marks the notice read.

Revision ID: 0140
Revises: 0130
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140"
down_revision = "0130"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("link", sa.String(length=300), nullable=True))
    with op.batch_alter_table("inbox_notices") as batch:
        batch.add_column(sa.Column("link", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_notices") as batch:
        batch.drop_column("link")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("link")
