"""One contract, three stores (files, PostgreSQL, S3 over the wire): documents are stored by
content hash, shared by every node that opens the same storage, and re-checked on every read
(DESIGN.md "Data and time": the DB keeps the hash; every read re-checks it)."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from portal.blobstore import BlobCorrupted, BlobMissing, sha256_hex
from tests.portal.blobstore.conftest import StoreUnderTest

DECISION = "行政处罚决定书 榕市监罚〔2026〕901号\n".encode() * 200


async def test_put_returns_the_sha256_and_get_returns_the_same_bytes(blob_store: StoreUnderTest) -> None:
    store = blob_store.store
    digest = await store.put(DECISION)
    assert digest == hashlib.sha256(DECISION).hexdigest()
    assert await store.get(digest) == DECISION
    assert await store.has(digest)
    assert await store.put(DECISION) == digest  # the name is the content: storing again is a no-op
    assert [d async for d in store.digests()] == [digest]


async def test_what_one_node_stores_another_node_reads(blob_store: StoreUnderTest) -> None:
    digest = await blob_store.store.put(DECISION)
    other = blob_store.another_node()
    try:
        assert await other.get(digest) == DECISION
        assert await other.has(digest)
    finally:
        await other.aclose()


async def test_a_document_of_the_largest_accepted_size_round_trips(blob_store: StoreUnderTest) -> None:
    document = os.urandom(25 * 1024 * 1024)  # MAX_BODY_BYTES: the largest delivery the API accepts
    digest = await blob_store.store.put(document)
    assert await blob_store.store.get(digest) == document


async def test_empty_content_is_a_document_like_any_other(blob_store: StoreUnderTest) -> None:
    digest = await blob_store.store.put(b"")
    assert digest == sha256_hex(b"")
    assert await blob_store.store.get(digest) == b""


async def test_the_same_document_stored_at_once_from_many_requests_is_one_blob(
        blob_store: StoreUnderTest) -> None:
    digests = await asyncio.gather(*(blob_store.store.put(DECISION) for _ in range(8)))
    assert set(digests) == {sha256_hex(DECISION)}
    assert await blob_store.store.get(digests[0]) == DECISION
    assert [d async for d in blob_store.store.digests()] == [digests[0]]


async def test_different_documents_are_listed_each_once(blob_store: StoreUnderTest) -> None:
    documents = [f"第{n}号文书".encode() for n in range(5)]
    digests = {await blob_store.store.put(document) for document in documents}
    assert {d async for d in blob_store.store.digests()} == digests


async def test_changed_bytes_are_an_alarm_not_a_silent_serve(blob_store: StoreUnderTest) -> None:
    digest = await blob_store.store.put(b"%PDF-1.7 original decision")
    await blob_store.tamper(digest, b"%PDF-1.7 forged decision")
    with pytest.raises(BlobCorrupted):
        await blob_store.store.get(digest)


async def test_unknown_or_malformed_digests_are_missing(blob_store: StoreUnderTest) -> None:
    await blob_store.store.put(DECISION)
    for digest in ("0" * 64, "../../etc/passwd", "A" * 64, sha256_hex(DECISION)[:63], "",
                   sha256_hex(DECISION) + "/x", sha256_hex(DECISION).upper()):
        with pytest.raises(BlobMissing):
            await blob_store.store.get(digest)
        assert not await blob_store.store.has(digest)


async def test_closing_twice_is_harmless(blob_store: StoreUnderTest) -> None:
    other = blob_store.another_node()
    await other.put(b"x")
    await other.aclose()
    await other.aclose()
