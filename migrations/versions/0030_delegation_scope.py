"""Delegation: what a representation allows (scope) and who granted it.

Existing representations are the agents the identity provider asserted for organisations:
they may do everything the organisation may, so they become ``full``. ``granted_by_person_id``
is the person who granted a delegation (the principal themself, or an organisation's agent);
the grant and its revocation are also events in the principal's evidence chain, which is the
record; these columns are the index the access checks query.

Revision ID: 0030
Revises: 0050
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import NAMING_CONVENTION

revision = "0030"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key or a check constraint with ALTER TABLE
    with op.batch_alter_table("representations", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False,
                                   server_default=sa.text("'full'")))
        batch.add_column(sa.Column("granted_by_person_id", sa.Integer, nullable=True))
        batch.create_foreign_key(op.f("fk_representations_granted_by_person_id_parties"), "parties",
                                 ["granted_by_person_id"], ["id"])
        batch.create_check_constraint(op.f("ck_representations_scope_known"), "scope IN ('mailbox', 'full')")


def downgrade() -> None:
    with op.batch_alter_table("representations", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_representations_scope_known"), type_="check")
        batch.drop_constraint(op.f("fk_representations_granted_by_person_id_parties"), type_="foreignkey")
        batch.drop_column("granted_by_person_id")
        batch.drop_column("scope")
