"""Moving a node's documents from DATA_DIR/blobs into the shared store with one command, and
checking afterwards that every document a record names is there, byte for byte."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.blobstore import open_blob_store
from portal.blobstore.files import FileBlobStore
from portal.blobstore.transfer import copy_blobs
from portal.services.document_audit import referencing_columns
from portal.settings import load_settings
from tests.builders import case_world, deliver, sign_consent
from tests.conftest import Database, overwrite_blob, run_cli
from tests.portal.blobstore.conftest import StoreUnderTest

DOCUMENTS = [f"%PDF-1.7 第{n}号 行政处罚决定书".encode() for n in range(6)]


async def test_copy_moves_every_blob_once_and_reports_damaged_files(
        tmp_path: Path, blob_store: StoreUnderTest) -> None:
    source = FileBlobStore(tmp_path / "old-blobs")
    digests = [await source.put(document) for document in DOCUMENTS]
    await overwrite_blob(source, digests[0], b"bit rot")
    await blob_store.store.put(DOCUMENTS[1])  # already moved by an interrupted earlier run

    first = await copy_blobs(source, blob_store.store)
    assert (first.copied, first.present, first.damaged) == (4, 1, [digests[0]])
    for digest, document in list(zip(digests, DOCUMENTS, strict=True))[1:]:
        assert await blob_store.store.get(digest) == document
    assert not await blob_store.store.has(digests[0])  # never stored under a name it does not match

    again = await copy_blobs(source, blob_store.store)
    assert (again.copied, again.present) == (0, 5)


def test_every_document_column_is_audited() -> None:
    # a new table naming a document by its hash is audited without being listed anywhere
    assert {column.table.name for column in referencing_columns()} == {
        "consents", "consent_revocations", "deliveries", "receipt_documents", "representation_authorisations",
        "service_receipts", "submission_attachments", "submission_receipts"}


async def test_migrate_then_check_through_the_real_commands(database: Database, data_dir: Path) -> None:
    if database.backend != "postgresql":
        pytest.skip("on SQLite the documents stay in DATA_DIR/blobs (BLOB_STORE=files)")
    # A node that ran with files: deliveries recorded, documents under DATA_DIR/blobs.
    w = await case_world(database)
    old_files = FileBlobStore(data_dir / "blobs")
    await sign_consent(database, w.party_id,
                       document_sha256=await old_files.put(b"%PDF-1.7 signed e-service confirmation"))
    delivered = [await deliver(database, old_files, w.party_id, w.case_id, title=f"决定书{n}")
                 for n in range(3)]
    check = await run_cli("blobs", "check", database_url=database.url, data_dir=data_dir)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "缺失 " in check.stdout and "deliveries" in check.stderr

    migrated = await run_cli("blobs", "migrate", database_url=database.url, data_dir=data_dir)
    assert migrated.returncode == 0, migrated.stderr
    assert "新复制 4 个文件" in migrated.stdout  # three decisions and the confirmation

    check = await run_cli("blobs", "check", database_url=database.url, data_dir=data_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "全部文件齐全" in check.stdout
    settings = load_settings({"DATABASE_URL": database.url, "DATA_DIR": str(data_dir)})
    store = open_blob_store(settings.blobs, database.engine)
    for delivery in delivered:
        data = await store.get(delivery.document_sha256)
        assert hashlib.sha256(data).hexdigest() == delivery.document_sha256
        assert len(data) == delivery.document_size

    await overwrite_blob(store, delivered[0].document_sha256, b"%PDF-1.7 forged")
    damaged = await run_cli("blobs", "check", database_url=database.url, data_dir=data_dir)
    assert damaged.returncode == 1
    assert delivered[0].document_sha256 in damaged.stderr and "内容与记录的 SHA-256 不符" in damaged.stderr
    async with database.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT count(*) FROM blobs"))).scalar_one()
    assert stored == await asyncio.to_thread(lambda: len(list((data_dir / "blobs").rglob("*/*/*"))))
