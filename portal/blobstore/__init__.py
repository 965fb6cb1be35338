"""Content-addressed document storage: the database keeps the SHA-256, the store keeps bytes.

One async interface, ``BlobStore``, three stores that pass the same contract test
(``tests/portal/blobstore/test_contract.py``):

* ``DatabaseBlobStore`` (``portal.blobstore.database``): the ``blobs`` table, the default on
  PostgreSQL. Documents travel with the evidence that names them through every backup, dump
  and replica, and every node of a cluster reads what another stored.
* ``FileBlobStore`` (``portal.blobstore.files``): files under ``DATA_DIR/blobs``, the default
  for the embedded SQLite database (one node). The file work runs in a thread, off the event
  loop.
* ``S3BlobStore`` (``portal.blobstore.s3``): any S3-compatible object store, as an option.

``put`` stores bytes under their SHA-256 and returns it; it is idempotent (the name is the
content). ``get`` re-checks the hash on every read. A blob written by a transaction that then
rolls back is unreferenced, harmless because its name is its content; a blob is always stored
*before* the row that names it commits, so no row ever names a missing blob.

Errors::

    BlobError
    ├── BlobMissing       no blob under this digest (or the digest is malformed)
    ├── BlobCorrupted     the stored bytes no longer hash to their name: an alarm, never served
    └── BlobUnavailable   the store cannot be reached now (retry later; nothing was decided)

``open_blob_store(settings, engine)`` builds the configured store; ``portal.blobstore.transfer``
copies blobs between stores (``portal blobs migrate``) and checks that every document a row
names is there and intact (``portal blobs check``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from portal.errors import ConfigurationError
from portal.settings import BlobSettings

__all__ = ["BlobCorrupted", "BlobError", "BlobMissing", "BlobStore", "BlobUnavailable",
           "checked", "open_blob_store", "sha256_hex", "valid_digest"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobError(Exception):
    """Base of the blob store's errors; ``args[0]`` is the digest concerned."""


class BlobMissing(BlobError):
    pass


class BlobCorrupted(BlobError):
    """The stored bytes no longer match their hash: tampering or disk failure."""


class BlobUnavailable(BlobError):
    """The store did not answer (network, server down): nothing is known about the blob."""


class BlobStore(Protocol):
    """What every store does; ``name`` says which one in logs and the CLI."""

    name: str

    async def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 (hex). Stored durably when this returns."""
        ...

    async def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``, re-checked against it."""
        ...

    async def has(self, digest: str) -> bool:
        """Whether a blob is stored under ``digest`` (not re-checked)."""
        ...

    def digests(self) -> AsyncIterator[str]:
        """Every digest stored, in no particular order."""
        ...

    async def aclose(self) -> None:
        """Release connections; idempotent."""
        ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def valid_digest(digest: str) -> bool:
    return _DIGEST.fullmatch(digest) is not None


def checked(digest: str, data: bytes) -> bytes:
    """``data`` if it hashes to ``digest``; ``BlobCorrupted`` otherwise."""
    if sha256_hex(data) != digest:
        raise BlobCorrupted(digest)
    return data


def open_blob_store(config: BlobSettings, engine: AsyncEngine) -> BlobStore:
    """The store ``config`` names; ``engine`` is the database the ``database`` store uses."""
    if config.store == "database":
        from portal.blobstore.database import DatabaseBlobStore

        return DatabaseBlobStore(engine)
    if config.store == "s3":
        from portal.blobstore.s3 import S3BlobStore

        if config.s3 is None:
            raise ConfigurationError("BLOB_STORE=s3 needs S3_BUCKET")
        return S3BlobStore(config.s3)
    from portal.blobstore.files import FileBlobStore

    return FileBlobStore(config.directory)
