"""Blobs in the ``blobs`` table of the portal's own PostgreSQL database.

Each ``put`` commits on a connection of its own (``INSERT … ON CONFLICT DO NOTHING``, so two
nodes storing the same document at once both succeed) before the caller's transaction writes
the row that names the blob: a row never names a missing document, and a rolled-back act leaves
at most an unreferenced one. Reads go to the primary, never a replica: a party opens a document
the moment it arrived.

PostgreSQL only: on SQLite, one writer at a time, a ``put`` inside a caller's open write
transaction would wait for that very transaction (``portal.settings`` refuses the pairing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.blobstore import BlobMissing, checked, sha256_hex, valid_digest
from portal.database import insert_ignoring, utcnow
from portal.models.blobs import StoredBlob

_PAGE = 1000


class DatabaseBlobStore:
    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        async with self.engine.begin() as connection:
            await connection.execute(insert_ignoring(connection, StoredBlob, ["sha256"]).values(
                sha256=digest, size=len(data), data=data, stored_at=utcnow()))
        return digest

    async def get(self, digest: str) -> bytes:
        if not valid_digest(digest):
            raise BlobMissing(digest)
        async with self.engine.connect() as connection:
            data = (await connection.execute(
                select(StoredBlob.data).where(StoredBlob.sha256 == digest))).scalar_one_or_none()
        if data is None:
            raise BlobMissing(digest)
        return checked(digest, bytes(data))

    async def has(self, digest: str) -> bool:
        if not valid_digest(digest):
            return False
        async with self.engine.connect() as connection:
            found = await connection.execute(select(StoredBlob.sha256).where(StoredBlob.sha256 == digest))
            return found.first() is not None

    async def digests(self) -> AsyncIterator[str]:
        """Page by key, one short query each: no transaction held open for the whole walk."""
        after = ""
        while True:
            async with self.engine.connect() as connection:
                page = list((await connection.execute(
                    select(StoredBlob.sha256).where(StoredBlob.sha256 > after)
                    .order_by(StoredBlob.sha256).limit(_PAGE))).scalars())
            for digest in page:
                yield digest
            if len(page) < _PAGE:
                return
            after = page[-1]

    async def aclose(self) -> None:
        return None  # the engine belongs to the caller
