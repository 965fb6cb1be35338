"""The schema is built only by the numbered migrations, on both databases, and they agree with
the ORM tables (STYLE.md, convention 10): a model changed without a migration fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from portal.database import Base
from portal.schema import alembic_config
from tests.conftest import Database

# Objects the migrations create on purpose without an ORM model (search indexes and their
# shadow tables): not drift.
_UNMODELLED_PREFIXES = ("publication_search", "publication_fts", "ix_publication", "alembic_version")


def _interesting(diff: Any) -> bool:
    """Ignore what the two dialects render differently but means the same."""
    first = diff[0] if isinstance(diff, list) else diff
    kind = first[0] if isinstance(first, tuple) else ""
    if kind in ("modify_nullable", "modify_default", "modify_comment"):
        return False
    return not any(part.startswith(_UNMODELLED_PREFIXES) for part in _names(first))


def _names(diff: Any) -> list[str]:
    return [getattr(item, "name", "") or "" for item in diff if hasattr(item, "name")] if isinstance(
        diff, tuple) else []


def test_there_is_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migration heads: {heads}"


async def test_migrations_match_the_models(database: Database) -> None:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [diff for diff in compare_metadata(context, Base.metadata) if _interesting(diff)]

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(compare)
    assert differences == [], f"models and migrations disagree: {differences}"
