"""Publicity: published items, their append-only versions and withdrawals, and keyword search.

Keyword search matches substrings (Chinese has no spaces between words), so each database
gets a trigram index over ``publications.search_text``:

- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+), external content over
  ``publications``, kept in step by triggers;
- PostgreSQL: the ``pg_trgm`` extension (trusted since PostgreSQL 13, so the database owner
  may create it) and a GIN index answering ``LIKE '%…%'``; and, as for the evidence log,
  triggers that refuse UPDATE and DELETE on versions and withdrawals (GD art. 62(3)).

Revision ID: 0050
Revises: 0020
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0050"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_RECORD_TABLES = ("publication_versions", "publication_withdrawals")

_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE publication_search USING fts5("
    "search_text, content='publications', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER publications_search_insert AFTER INSERT ON publications BEGIN "
    "INSERT INTO publication_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER publications_search_delete AFTER DELETE ON publications BEGIN "
    "INSERT INTO publication_search(publication_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER publications_search_update AFTER UPDATE OF search_text ON publications BEGIN "
    "INSERT INTO publication_search(publication_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO publication_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agency_case_number", sa.String(100), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_published_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("public_until", UTCDateTime(), nullable=False),
        sa.Column("publicity_days", sa.Integer),
        sa.Column("publicity_basis", sa.String(200)),
        sa.Column("withdrawn_at", UTCDateTime()),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.UniqueConstraint("agency_id", "kind", "agency_case_number"),
    )
    op.create_index("ix_publications_order", "publications", ["decision_date", "id"])
    op.create_index("ix_publications_agency_order", "publications", ["agency_id", "decision_date", "id"])
    op.create_index("ix_publications_region_order", "publications", ["region_code", "decision_date", "id"])
    op.create_index("ix_publications_kind_order", "publications", ["kind", "decision_date", "id"])
    op.create_table(
        "publication_versions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("publication_id", BigId, sa.ForeignKey("publications.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("public_until", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("party_kind", sa.String(16), nullable=False),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18)),
        sa.Column("violation", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("amount_fen", sa.BigInteger),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("masked", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("publication_id", "version"),
    )
    op.create_table(
        "publication_withdrawals",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("publication_id", BigId, sa.ForeignKey("publications.id"), nullable=False,
                  unique=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("occurred_on", sa.Date),
        sa.Column("warnings", sa.JSON, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_publications_search_trgm ON publications "
               "USING gin (search_text gin_trgm_ops)")
    op.execute(
        "CREATE FUNCTION publication_record_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$ "
        "LANGUAGE plpgsql"
    )
    for table in _RECORD_TABLES:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION publication_record_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER publications_search_{trigger}")
        op.execute("DROP TABLE publication_search")
    else:
        for table in _RECORD_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION publication_record_append_only()")
        op.execute("DROP INDEX ix_publications_search_trgm")
    op.drop_table("publication_withdrawals")
    op.drop_table("publication_versions")
    op.drop_index("ix_publications_kind_order", "publications")
    op.drop_index("ix_publications_region_order", "publications")
    op.drop_index("ix_publications_agency_order", "publications")
    op.drop_index("ix_publications_order", "publications")
    op.drop_table("publications")
