"""The schema is built only by the numbered migrations, on both databases, and they agree with
the ORM tables (STYLE.md, convention 10): a model changed without a migration fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from portal import schema
from portal.database import Base, create_engine, session_factory
from portal.holiday_table import parse_calendar_file, table_digest
from portal.models.calendar import HolidayTableLoad
from portal.schema import alembic_config
from portal.services import calendar
from tests.builders import TABLE_2027
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


async def _old_databases(tmp_path: Path, pg_database_url: str | None) -> AsyncIterator[AsyncEngine]:
    """A new SQLite database, then (when reachable) a new PostgreSQL one, each dropped after
    its turn: for a test that upgrades from an older revision."""
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"]
    if pg_database_url is not None:
        urls.append(pg_database_url.rsplit("/", 1)[0] + f"/{pg_database_url.rsplit('/', 1)[1]}_m")
    for url in urls:
        if url.startswith("postgresql"):
            await _create_pg_database(url)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()
            if url.startswith("postgresql"):
                await _drop_pg_database(url)


async def test_upgrading_keeps_the_submissions_filed_before_objections_existed(
        tmp_path: Path, pg_database_url: str | None) -> None:
    # GD art. 62(3): nothing filed is lost. Migration 0080 rebuilds ``submissions`` on SQLite
    # (case_id becomes optional); rows that refer to it must survive, on both databases.
    async for engine in _old_databases(tmp_path, pg_database_url):
        await schema.upgrade(engine, "0070")
        async with engine.begin() as connection:
            for statement in _SUBMISSION_AT_0070:
                await connection.execute(text(statement), {"at": datetime.now(UTC)})
        await schema.upgrade(engine)
        async with engine.connect() as connection:
            kept = (await connection.execute(text(
                "SELECT s.case_id, s.publication_id, a.position FROM submissions s "
                "JOIN submission_attachments a ON a.submission_id = s.id"))).all()
            assert [tuple(row) for row in kept] == [(1, None, 1)]


async def test_a_holiday_table_loaded_before_loads_were_recorded_stays_in_force(
        tmp_path: Path, pg_database_url: str | None) -> None:
    # LAW.md "Counting days": the operator's 2027 arrangement, loaded before migration 0190,
    # must keep deciding deadlines after it (0190 records it as a load, with its digest)
    async for engine in _old_databases(tmp_path, pg_database_url):
        await schema.upgrade(engine, "0180")
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO holiday_days (year, day, kind, name) VALUES (:year, :day, :kind, :name)"),
                [{"year": entry.year, "day": entry.day, "kind": entry.kind.value, "name": entry.name}
                 for entry in _TABLE_2027.days.values()])
        await schema.upgrade(engine)
        async with session_factory(engine)() as db:
            loaded = await calendar.load_calendar(db)
            digest = (await db.execute(select(HolidayTableLoad.digest))).scalars().all()
        assert loaded.covers(2027) and loaded.is_working_day(date(2027, 2, 20))  # a 调休 Saturday
        assert not loaded.is_working_day(date(2027, 2, 11))
        assert digest == [table_digest(_TABLE_2027.days.values())]


_TABLE_2027 = parse_calendar_file(TABLE_2027)



_SUBMISSION_AT_0070 = (
    "INSERT INTO agencies (id, name, created_at) VALUES (1, '某局', :at)",
    "INSERT INTO parties (id, kind, name, id_number, created_at) "
    "VALUES (1, 'person', '张三', '35010219850312123X', :at)",
    "INSERT INTO cases (id, code, agency_id, agency_case_number, case_type, matter, hearing_right, "
    "electronic_monitoring, registered_at) VALUES (1, 'C1', 1, 'N1', '行政处罚', '案由', false, false, :at)",
    "INSERT INTO submissions (id, public_id, case_id, party_id, agency_id, kind, content, "
    "content_sha256, submitted_by_person_id, actor, submitted_at, event_hash) VALUES "
    "(1, 'p1', 1, 1, 1, 'statement', '{}', 'c', 1, 'party:1', :at, 'e1')",
    "INSERT INTO submission_attachments (id, submission_id, position, media_type, size, "
    "document_sha256) VALUES (1, 1, 1, 'image/png', 3, 'd')",
)


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0].replace("postgresql+asyncpg://", "postgresql://") + "/postgres"


async def _create_pg_database(url: str) -> None:
    admin = await asyncpg.connect(_admin(url))
    try:
        await admin.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    finally:
        await admin.close()


async def _drop_pg_database(url: str) -> None:
    admin = await asyncpg.connect(_admin(url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()
