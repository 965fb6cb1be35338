"""Agencies carry their unified social credit code, by which their seals are matched (not by name).

A served document's seal counted when its certificate's organisation *name* equalled the
agency's: a seal of another organisation with the same name (another code) passed. Seals are
now matched by the code (``portal.eservice.seals``). Existing agencies get no code here (the
migration cannot know it): until the operator records it with
``portal agency credit-code "<name>" <code>``, such an agency cannot serve documents.

Revision ID: 0130
Revises: 0120
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import NAMING_CONVENTION

revision = "0130"
down_revision = "0120"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("credit_code", sa.String(18), nullable=True))
        batch.create_unique_constraint("uq_agencies_credit_code", ["credit_code"])


def downgrade() -> None:
    with op.batch_alter_table("agencies", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint("uq_agencies_credit_code", type_="unique")
        batch.drop_column("credit_code")
