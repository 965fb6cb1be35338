"""The three blob stores under one fixture, each with a way to damage a stored blob behind the
store's back (what a disk failure, a DBA's UPDATE or an overwritten object would do)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from portal import schema
from portal.blobstore import BlobStore
from portal.blobstore.database import DatabaseBlobStore
from portal.blobstore.files import FileBlobStore
from portal.blobstore.s3 import S3BlobStore
from portal.database import create_engine
from tests import conftest
from tests.conftest import overwrite_blob
from tests.s3_server import S3Server, start_s3_server

Tamper = Callable[[str, bytes], Awaitable[None]]


@dataclass
class StoreUnderTest:
    store: BlobStore
    tamper: Tamper
    """Replace the bytes stored under a digest with others."""
    another_node: Callable[[], BlobStore]
    """A second, independent store over the same storage (what another node opens)."""


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    try:
        yield server
    finally:
        server.stop()


async def create_bucket(store: S3BlobStore) -> None:
    client = await store._s3()
    await client.create_bucket(Bucket=store.config.bucket,
                               CreateBucketConfiguration={"LocationConstraint": store.config.region})


@pytest_asyncio.fixture(params=["files", "database", "s3"], loop_scope="session")
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path,
                     pg_database_url: str | None) -> AsyncIterator[StoreUnderTest]:
    kind = request.param
    if kind == "files":
        root = tmp_path / "blobs"

        store = FileBlobStore(root)
        yield StoreUnderTest(store, partial(overwrite_blob, store), lambda: FileBlobStore(root))
    elif kind == "database":
        if pg_database_url is None:
            pytest.skip("PostgreSQL not reachable (set REQUIRE_POSTGRES=1 to fail instead)")
        engine = create_engine(pg_database_url)
        if pg_database_url not in conftest._migrated:
            await schema.upgrade(engine)
            conftest._migrated.add(pg_database_url)
        other = create_engine(pg_database_url)
        in_database = DatabaseBlobStore(engine)
        try:
            yield StoreUnderTest(in_database, partial(overwrite_blob, in_database),
                                 lambda: DatabaseBlobStore(other))
        finally:
            async with engine.begin() as connection:  # the suite's cleanup, round the triggers
                await connection.execute(text("SET LOCAL session_replication_role = replica"))
                await connection.execute(text("TRUNCATE blobs"))
            await other.dispose()
            await engine.dispose()
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        config = server.settings(f"portal-{secrets.token_hex(6)}")
        in_s3 = S3BlobStore(config)
        await create_bucket(in_s3)

        async def put_object(digest: str, data: bytes) -> None:
            await (await in_s3._s3()).put_object(Bucket=config.bucket, Key=in_s3.key(digest), Body=data)

        others: list[S3BlobStore] = []

        def another() -> BlobStore:
            others.append(S3BlobStore(config))
            return others[-1]

        try:
            yield StoreUnderTest(in_s3, put_object, another)
        finally:
            for opened in (in_s3, *others):
                await opened.aclose()
