"""Database engines, the declarative base and the one column type for instants.

PostgreSQL through asyncpg in production and in the test suite; SQLite through aiosqlite as
the embedded default. SQLite needs ``PRAGMA foreign_keys=ON`` on every connection and returns
naive datetimes, so every instant goes through ``UTCDateTime``, which refuses naive values on
the way in and hands back aware UTC values on the way out.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored as UTC, always aware in Python, naive values refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Row = TypeVar("Row")


async def get_existing(db: AsyncSession, model: type[Row], key: Any) -> Row:
    """The row ``key`` of ``model`` where a foreign key or an earlier commit guarantees it: its
    absence is a bug, not a refusal to answer with, and raises ``RuntimeError``."""
    row = await db.get(model, key)
    if row is None:
        raise RuntimeError(f"{model.__name__} {key!r} is missing")
    return row


def utcnow() -> datetime:
    return datetime.now(UTC)


async def database_now(db: AsyncSession) -> datetime:
    """The current instant by the database's clock, read at the moment of the call.

    PostgreSQL's ``now()`` is the transaction's *start*; ``clock_timestamp()`` is the real
    time of the statement, which is what a service time taken just before COMMIT needs
    (PITFALLS.md). SQLite has no server clock: the process clock is used.
    """
    if db.get_bind().dialect.name == "postgresql":
        value = (await db.execute(text("SELECT clock_timestamp()"))).scalar_one()
        return value.astimezone(UTC)
    return utcnow()


def dialect_insert(db: AsyncSession | AsyncConnection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` in the dialect of ``db``'s database: the generic one has no ``ON CONFLICT``,
    which PostgreSQL and SQLite spell alike but SQLAlchemy builds per dialect."""
    bind = db.get_bind() if isinstance(db, AsyncSession) else db
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring(db: AsyncSession | AsyncConnection, table: Any,
                    unique: Sequence[str] | None = None) -> postgresql.Insert | sqlite.Insert:
    """``INSERT … ON CONFLICT DO NOTHING``: concurrent writers of the same row (on the
    ``unique`` columns; None: on any unique constraint) do not collide, the first one wins.
    Add ``.values(...)`` and, to learn whether this one inserted, ``.returning(...)``."""
    return dialect_insert(db, table).on_conflict_do_nothing(index_elements=unique)


async def advisory_lock(db: AsyncSession, namespace: int, key: str) -> None:
    """Hold a lock on ``key`` until the transaction ends, for a decision that reads before it
    writes and that two transactions must not both take on the same stale reading (who holds
    an idempotency key, the room left under a send limit). PostgreSQL: a transaction-scoped
    advisory lock, ``namespace`` naming what the keys are; two keys that hash alike merely
    wait for each other. SQLite runs one writing transaction at a time: nothing to take."""
    if db.get_bind().dialect.name != "postgresql":
        return
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
    await db.execute(text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
                     {"namespace": namespace, "key": digest})


LAZY_COMMIT = "portal_lazy_commit"
"""Execution option of a transaction whose commit need not wait for the disk (``lazy_commit``)."""
_SYNCHRONOUS = "portal_sqlite_synchronous"


def _sqlite_on_connect(dbapi_connection: Any, record: Any) -> None:
    # The driver's own implicit BEGIN is turned off so that ``_sqlite_on_begin`` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
    record.info[_SYNCHRONOUS] = "FULL"


def _sqlite_on_begin(connection: Any) -> None:
    """BEGIN IMMEDIATE: take the write lock up front. A deferred transaction that reads and
    then writes fails at once (SQLITE_BUSY) when another writer committed in between, instead
    of waiting; SQLite has one writer at a time anyway.

    Before it, the connection's durability is set for this transaction (SQLite refuses to
    change it inside one): ``FULL`` (the commit waits for the WAL's fsync), or ``NORMAL``
    for a ``lazy_commit`` transaction. Every transaction sets what it needs, so one that
    follows a lazy one on the same pooled connection is durable again."""
    wanted = "NORMAL" if connection.get_execution_options().get(LAZY_COMMIT) else "FULL"
    if connection.info.get(_SYNCHRONOUS) != wanted:
        connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
        connection.info[_SYNCHRONOUS] = wanted
    connection.exec_driver_sql("BEGIN IMMEDIATE")


async def lazy_commit(db: AsyncSession) -> None:
    """Let the commit of ``db``'s transaction, which must write nothing of consequence (a rate
    limit's count), return without waiting for the disk: a crash of the machine may forget
    its last fraction of a second. PostgreSQL: ``synchronous_commit = off`` for it; SQLite
    (WAL): ``synchronous = NORMAL``, about 4 ms less per request on a plain disk. Call it
    before the transaction's first statement."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SET LOCAL synchronous_commit = off"))
    else:
        await db.connection(execution_options={LAZY_COMMIT: True})


async def sqlite_lazy_statement(connection: AsyncConnection, statement: str,
                                parameters: Sequence[Any]) -> list[Any]:
    """Run one SQLite ``statement`` (qmark parameters, values as the driver takes them) as a
    transaction of its own, committed like a ``lazy_commit`` one, and return its rows.

    For a hot single-statement write (a rate limit's count): SQLite runs a statement outside
    BEGIN as its own atomic transaction (the connection is in autocommit mode, see
    ``_sqlite_on_connect``), and aiosqlite runs it and fetches its rows in one hop to its
    thread. The same through a SQLAlchemy session was nine hops (cursor, BEGIN IMMEDIATE, the
    statement, its rows, closing each cursor, COMMIT), the greater part of the statement's
    cost. The durability set here is recorded like ``_sqlite_on_begin``'s, so the next
    transaction on this pooled connection waits for the disk again; driver errors come out
    as SQLAlchemy's, as from any other statement."""
    pooled = await connection.get_raw_connection()
    driver = pooled.driver_connection
    if driver is None:
        raise RuntimeError("a pooled connection without its driver connection")
    try:
        if pooled.info.get(_SYNCHRONOUS) != "NORMAL":
            await driver.execute_fetchall("PRAGMA synchronous=NORMAL")
            pooled.info[_SYNCHRONOUS] = "NORMAL"
        return list(await driver.execute_fetchall(statement, parameters))
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, parameters, error, sqlite3.Error,
                                  hide_parameters=True, dialect=connection.dialect) from error


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def create_engine(url: str, *, transaction_pooling: bool = False,
                  ping_idle_after: float = 0.0, **kwargs: Any) -> AsyncEngine:
    """An engine for ``url`` with the per-dialect settings the portal relies on.

    ``transaction_pooling``: ``url`` leads to a pooler in transaction mode (PgBouncer), where
    one client connection's transactions run on whichever server connection is free: no
    prepared statement may outlive its transaction (asyncpg's and SQLAlchemy's caches off,
    a unique name for each) and no session setting is sent at connect (PITFALLS.md). Its
    errors never carry the statement's parameters (ID numbers and names; PITFALLS.md).

    PostgreSQL connections are checked before use, so a restarted server costs no request
    (``_ping_on_checkout``: one round trip). With ``ping_idle_after`` only a connection that
    sat in the pool at least that many seconds is checked, for an engine whose short
    transactions follow each other (a worker's claim, send and record); one used a moment
    ago fails at most the transaction that meets a restart, which invalidates the whole pool.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if transaction_pooling:
        connect_args = {key: value for key, value in kwargs.get("connect_args", {}).items()
                        if key != "server_settings"}
        connect_args.update(statement_cache_size=0, prepared_statement_cache_size=0,
                            prepared_statement_name_func=_unique_statement_name)
        kwargs["connect_args"] = connect_args
    engine = create_async_engine(url, **kwargs)
    _ping_on_checkout(engine, ping_idle_after)
    return engine


_CHECKED_IN_AT = "portal_checked_in_at"


def _ping_on_checkout(engine: AsyncEngine, idle_after: float) -> None:
    """Check a pooled connection that sat ``idle_after`` seconds or more in the pool before use
    (``create_engine``), with one round trip: ``SELECT 1`` in asyncpg's simple protocol (no
    arguments), one message that PgBouncer in transaction mode passes whole (asyncpg fails
    on the empty query's answer, which has no command tag). SQLAlchemy's own ``pool_pre_ping``
    is not used: its asyncpg adapter wraps that query in a transaction (BEGIN, the query,
    ROLLBACK: three round trips) because its extended-protocol query would otherwise not
    survive PgBouncer; at three checkouts per delivery that was nine round trips."""
    pool = engine.sync_engine.pool

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN_AT)
        if since is None or time.monotonic() - since < idle_after:
            return  # new, or used a moment ago
        try:
            await_only(record.driver_connection.execute("SELECT 1"))
        except Exception as exc:
            # The pool drops this connection and checks out another (SQLAlchemy's own recipe).
            raise DisconnectionError("pooled connection failed its ping") from exc

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine ``sessions`` binds to (a store of documents in the same database uses it)."""
    bind = sessions.kw["bind"]
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session
