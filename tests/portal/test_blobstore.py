"""Documents are stored by content hash and re-checked on every read (DESIGN.md "Data and time")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from portal.blobstore import BlobCorrupted, BlobMissing, FileBlobStore


def test_put_returns_the_sha256_and_get_returns_the_same_bytes(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    data = "行政处罚决定书".encode() * 100
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data
    assert store.put(data) == digest  # idempotent


def test_a_changed_file_is_an_alarm_not_a_silent_serve(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    digest = store.put(b"%PDF-1.7 original")
    path = next(p for p in tmp_path.rglob(digest))
    path.write_bytes(b"%PDF-1.7 forged")
    with pytest.raises(BlobCorrupted):
        store.get(digest)


def test_unknown_or_malformed_digest_is_missing(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    with pytest.raises(BlobMissing):
        store.get("0" * 64)
    with pytest.raises(BlobMissing):
        store.get("../../etc/passwd")
