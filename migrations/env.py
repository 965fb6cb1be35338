"""Alembic environment: runs on a connection handed over by ``portal.schema`` (both databases).

``portal db upgrade`` and the test suite call ``portal.schema.upgrade(engine)``, which passes a
live connection in ``config.attributes``; the plain ``alembic`` command builds one from
settings. SQLite runs in batch mode so ALTERs work there too.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from portal import models  # noqa: F401  (registers every table on Base.metadata)
from portal.database import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from portal.database import create_engine
    from portal.settings import load_settings

    engine = create_engine(load_settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_from_settings())
