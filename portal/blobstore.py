"""Content-addressed document storage: the database keeps the SHA-256, the store keeps bytes.

Files live under ``DATA_DIR/blobs/ab/cd/<sha256>``, written to a temporary file, fsynced and
renamed, so a crash never leaves a half-written document under its final name. Every read
re-checks the hash: a mismatch raises ``BlobCorrupted``, which callers treat as an alarm and
never serve. A blob written by a transaction that then rolls back is an unreferenced file,
harmless because its name is its content. (An S3-compatible store would implement the same
two methods; only the filesystem store exists so far.)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobError(Exception):
    """Base of the blob store's errors."""


class BlobMissing(BlobError):
    pass


class BlobCorrupted(BlobError):
    """The stored bytes no longer match their hash: tampering or disk failure."""


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise BlobMissing(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupted(digest)
        return data
