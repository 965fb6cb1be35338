"""What each store adds to the contract: where it keeps what, how it fails, how it is chosen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.blobstore import BlobUnavailable, open_blob_store
from portal.blobstore.database import DatabaseBlobStore
from portal.blobstore.files import FileBlobStore
from portal.blobstore.s3 import S3BlobStore
from portal.errors import ConfigurationError
from portal.settings import load_settings
from tests.conftest import Database
from tests.portal.blobstore.conftest import create_bucket
from tests.s3_server import start_s3_server


async def test_files_leave_no_temporary_file_behind(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    digest = await store.put(b"%PDF-1.7 decision")
    files = await asyncio.to_thread(lambda: [p.name for p in tmp_path.rglob("*") if p.is_file()])
    assert files == [digest]
    assert store.path(digest) == tmp_path / digest[:2] / digest[2:4] / digest


async def test_the_database_refuses_to_change_or_remove_a_stored_document(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("the documents live in the database only on PostgreSQL")
    store = DatabaseBlobStore(database.engine)
    digest = await store.put(b"%PDF-1.7 served decision")
    refusals = (("UPDATE blobs SET data = 'x'::bytea WHERE sha256 = :d", "blobs are immutable"),
                ("DELETE FROM blobs WHERE sha256 = :d", "blobs are immutable"),
                ("TRUNCATE blobs", "TRUNCATE refused"))
    for statement, refusal in refusals:
        with pytest.raises(DBAPIError, match=refusal):
            async with database.engine.begin() as connection:
                await connection.execute(text(statement), {"d": digest})
    assert await store.get(digest) == b"%PDF-1.7 served decision"


async def test_an_s3_server_that_does_not_answer_is_unavailable_not_missing(tmp_path: Path) -> None:
    server = start_s3_server(tmp_path)
    store = S3BlobStore(server.settings("portal-down"))
    try:
        await create_bucket(store)
        digest = await store.put(b"%PDF-1.7 decision")
        server.stop()
        with pytest.raises(BlobUnavailable):
            await store.get(digest)
    finally:
        server.stop()
        await store.aclose()


def test_postgresql_keeps_documents_in_the_database_and_sqlite_in_files(tmp_path: Path) -> None:
    pg = load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://db.internal/portal"})
    assert pg.blobs.store == "database"
    lite = load_settings({"DATA_DIR": str(tmp_path)})
    assert (lite.blobs.store, lite.blobs.directory) == ("files", tmp_path.resolve() / "blobs")
    chosen = load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://db.internal/portal",
                            "BLOB_STORE": "s3", "S3_BUCKET": "documents",
                            "S3_ENDPOINT_URL": "https://oss.fujian.example", "S3_ACCESS_KEY_ID": "id",
                            "S3_SECRET_ACCESS_KEY": "s3-access-secret-Xq9"})
    assert chosen.blobs.s3 is not None and chosen.blobs.s3.bucket == "documents"
    assert "s3-access-secret-Xq9" not in repr(chosen)  # the field is named, its value never shown


@pytest.mark.parametrize(("env", "message"), [
    ({"BLOB_STORE": "database"}, "needs PostgreSQL"),
    ({"BLOB_STORE": "nfs"}, "BLOB_STORE must be one of"),
    ({"BLOB_STORE": "s3"}, "S3_BUCKET"),
    ({"BLOB_STORE": "s3", "S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "id"}, "go together"),
    ({"BLOB_STORE": "s3", "S3_BUCKET": "b", "S3_ENDPOINT_URL": "oss.example"}, r"http\(s\) URL"),
    ({"BLOB_STORE": "s3", "S3_BUCKET": "b", "S3_PREFIX": "../other"}, "relative key prefix"),
])
def test_an_unworkable_store_setting_stops_start_up(tmp_path: Path, env: dict[str, str],
                                                    message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"DATA_DIR": str(tmp_path), **env})


async def test_the_configured_store_is_the_one_opened(tmp_path: Path, database: Database) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": database.url})
    store = open_blob_store(settings.blobs, database.engine)
    assert store.name == ("database" if database.backend == "postgresql" else "files")
