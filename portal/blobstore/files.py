"""Blobs as files under one directory: ``<root>/ab/cd/<sha256>``.

Each file is written to a temporary name, fsynced and renamed (then the directory fsynced), so
a crash never leaves a half-written document under its final name. The file work runs in a
worker thread: a 20 MB document never stalls the event loop. This store is right for one node
(the embedded SQLite default); several nodes would need the directory on shared storage, and
the ``database`` or ``s3`` store is the better choice there.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from portal.blobstore import BlobMissing, checked, sha256_hex, valid_digest

_INCOMING = ".incoming-"


class FileBlobStore:
    name = "files"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Where ``digest`` lives; ``BlobMissing`` for anything that is not a digest (no paths
        from outside ever reach the filesystem)."""
        if not valid_digest(digest):
            raise BlobMissing(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    async def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        await asyncio.to_thread(self._write, self.path(digest), data)
        return digest

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_INCOMING)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)

    async def get(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        return checked(digest, data)

    async def has(self, digest: str) -> bool:
        return valid_digest(digest) and await asyncio.to_thread(self.path(digest).is_file)

    async def digests(self) -> AsyncIterator[str]:
        names = await asyncio.to_thread(self._names)
        for name in names:
            yield name

    def _names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.glob("??/??/*") if valid_digest(p.name)
                      and p.parent.name == p.name[2:4] and p.parent.parent.name == p.name[:2])

    async def aclose(self) -> None:
        return None
