"""Documents in the database: the ``blobs`` table (``BLOB_STORE=database``, the default on
PostgreSQL; ``portal.blobstore.database``).

On PostgreSQL the data column is stored uncompressed out of line (PDFs are compressed already:
trying again only costs CPU) and triggers refuse UPDATE, DELETE and TRUNCATE, as for the evidence log:
a document named by a legal record is never changed or removed. Existing files under
``DATA_DIR/blobs`` move in with ``portal blobs migrate``.

Revision ID: 0090
Revises: 0080
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0090"
down_revision = "0080"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL")
        op.execute(
            "CREATE FUNCTION blobs_immutable() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'blobs are immutable: % refused', TG_OP; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER blobs_immutable BEFORE UPDATE OR DELETE ON blobs "
                   "FOR EACH ROW EXECUTE FUNCTION blobs_immutable()")
        op.execute("CREATE TRIGGER blobs_no_truncate BEFORE TRUNCATE ON blobs "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()")  # migration 0080


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER blobs_no_truncate ON blobs")
        op.execute("DROP TRIGGER blobs_immutable ON blobs")
        op.execute("DROP FUNCTION blobs_immutable()")
    op.drop_table("blobs")
