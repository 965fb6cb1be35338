"""Apply the Alembic migrations to a database: the only way the schema is ever built.

Used by ``portal db upgrade``, by ``make run`` and by the test suite, so both SQLite and
PostgreSQL always run the same numbered migrations (STYLE.md, convention 10).

On SQLite, batch mode changes a column by rebuilding its table (copy, drop, rename). Dropping a
table that other tables refer to fails with foreign keys on, even when the copy keeps every
row, so the migrations run with them off -- SQLite's own procedure for such changes: the pragma
is set before the transaction (inside one SQLite ignores it), ``PRAGMA foreign_key_check`` must
find nothing before the commit, and the connection gets them back afterwards.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


class ForeignKeyViolation(RuntimeError):
    """A migration left rows pointing at nothing (SQLite); nothing was committed."""


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Set the pragma on the driver's connection, outside SQLAlchemy's (auto-begun) transaction."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    sqlite = engine.dialect.name == "sqlite"

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise ForeignKeyViolation("a migration left rows pointing at nothing")

    async with engine.connect() as connection:
        if sqlite:
            await connection.run_sync(_sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(run)
        finally:
            if sqlite:
                await connection.run_sync(_sqlite_foreign_keys, True)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        try:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        except Exception:  # no table yet: an empty database
            return None
        return result.scalar_one_or_none()
