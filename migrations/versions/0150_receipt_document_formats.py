"""A fiscal e-receipt may be issued as several sealed documents, one per format: the PAdES PDF
and the OFD sealed per GB/T 38540 (RECEIPT_FORMATS). Every document stored so far is a PDF.

Revision ID: 0150
Revises: 0140
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0140"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receipt_documents") as batch:
        batch.add_column(sa.Column("format", sa.String(length=3), server_default="pdf", nullable=False))
        batch.drop_constraint("uq_receipt_documents_receipt_id", type_="unique")
        batch.create_unique_constraint("uq_receipt_documents_receipt_format", ["receipt_id", "format"])


def downgrade() -> None:
    with op.batch_alter_table("receipt_documents") as batch:
        batch.drop_constraint("uq_receipt_documents_receipt_format", type_="unique")
        batch.create_unique_constraint("uq_receipt_documents_receipt_id", ["receipt_id"])
        batch.drop_column("format")
