"""The backup and restore drill of the README ("Backup and restore"), done as an operator does
it: ``pg_dump`` of a portal with served documents, consent and receipts, ``pg_restore`` into an
empty database, then ``portal evidence verify`` and ``portal blobs check`` on the copy: every
chain intact, every document there with the SHA-256 its record holds (the documents are in the
dump: BLOB_STORE=database)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import subprocess
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select

from portal.blobstore.database import DatabaseBlobStore
from portal.database import create_engine, session_factory
from portal.models import Delivery
from tests.builders import case_world, deliver, sign_consent
from tests.cluster.postgres import pg_bin
from tests.conftest import Database, _pg_admin_url, run_cli

pytestmark = pytest.mark.cluster


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_dump_restore_into_an_empty_server_keeps_every_chain_and_document(
        database: Database, data_dir: Path, tmp_path: Path) -> None:
    if database.backend != "postgresql":
        pytest.skip("the drill is PostgreSQL's")
    # A portal in use: consent (with its signed confirmation), three documents served.
    blobs = DatabaseBlobStore(database.engine)
    w = await case_world(database)
    await sign_consent(database, w.party_id, document_sha256=await blobs.put(b"%PDF-1.7 signed confirmation"))
    served = [await deliver(database, blobs, w.party_id, w.case_id, title=f"榕市监罚〔2026〕{n}号")
              for n in range(3)]

    dump = tmp_path / "portal.dump"
    await asyncio.to_thread(subprocess.run, [str(pg_bin() / "pg_dump"), "--format=custom",
                                             f"--file={dump}", libpq(database.url)], check=True, timeout=300)
    admin = await asyncpg.connect(_pg_admin_url())
    copy = f"portal_restored_{secrets.token_hex(3)}"
    await admin.execute(f'CREATE DATABASE "{copy}"')
    restored = database.url.rsplit("/", 1)[0] + f"/{copy}"
    try:
        restore = [str(pg_bin() / "pg_restore"), "--exit-on-error", "--no-owner",
                   f"--dbname={libpq(restored)}", str(dump)]
        await asyncio.to_thread(subprocess.run, restore, check=True, timeout=300)
        chains = await run_cli("evidence", "verify", database_url=restored, data_dir=data_dir)
        assert chains.returncode == 0, chains.stdout + chains.stderr
        documents = await run_cli("blobs", "check", database_url=restored, data_dir=data_dir)
        assert documents.returncode == 0, documents.stdout + documents.stderr
        assert "deliveries 3" in documents.stdout and "consents 1" in documents.stdout

        engine = create_engine(restored)
        try:
            async with session_factory(engine)() as db:
                rows = (await db.execute(select(Delivery).order_by(Delivery.id))).scalars().all()
            copies = DatabaseBlobStore(engine)
            for row, original in zip(rows, served, strict=True):
                data = await copies.get(row.document_sha256)
                assert (row.public_id, row.arrived_at) == (original.public_id, original.arrived_at)
                assert hashlib.sha256(data).hexdigest() == original.document_sha256 == row.document_sha256
        finally:
            await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        await admin.close()
