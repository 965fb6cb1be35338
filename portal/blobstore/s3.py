"""Blobs in an S3-compatible object store (``BLOB_STORE=s3``), through aiobotocore.

Objects are named ``<S3_PREFIX><sha256>``. Uploads carry ``Content-MD5``, so the server
refuses bytes damaged on the way (every S3-compatible server checks it; newer checksum headers
are not everywhere), and every read is re-checked against the SHA-256 here. A custom endpoint
(MinIO, Ceph, a provincial cloud) is addressed path-style, which they all accept.

aiobotocore is an optional dependency (``pip install 'enforcement-portal[s3]'``); the client
is created on first use, in the running event loop, and closed by ``aclose``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from portal.blobstore import BlobMissing, BlobUnavailable, checked, sha256_hex, valid_digest
from portal.errors import ConfigurationError
from portal.settings import S3Settings

_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_session: Any = None


class S3BlobStore:
    name = "s3"

    def __init__(self, config: S3Settings) -> None:
        self.config = config
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._opening: asyncio.Lock | None = None

    def key(self, digest: str) -> str:
        return f"{self.config.prefix}{digest}"

    async def _s3(self) -> Any:
        if self._client is not None:
            return self._client
        self._opening = self._opening or asyncio.Lock()
        async with self._opening:
            if self._client is None:
                self._client = await self._open()
        return self._client

    async def _open(self) -> Any:
        try:
            from aiobotocore.config import AioConfig
            from aiobotocore.session import get_session
        except ImportError:  # pragma: no cover - depends on the installation
            raise ConfigurationError(
                "BLOB_STORE=s3 needs aiobotocore: pip install 'enforcement-portal[s3]'") from None
        config = AioConfig(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path" if self.config.endpoint_url else "auto"},
            request_checksum_calculation="when_required", response_checksum_validation="when_required")
        global _session
        _session = _session or get_session()  # loads the S3 service model once per process
        stack = AsyncExitStack()
        client = await stack.enter_async_context(_session.create_client(
            "s3", endpoint_url=self.config.endpoint_url, region_name=self.config.region,
            aws_access_key_id=self.config.access_key_id,
            aws_secret_access_key=self.config.secret_access_key, config=config))
        self._stack = stack
        return client

    async def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        async with _translated(digest):
            await (await self._s3()).put_object(
                Bucket=self.config.bucket, Key=self.key(digest), Body=data, ContentMD5=md5,
                ContentType="application/octet-stream")
        return digest

    async def get(self, digest: str) -> bytes:
        if not valid_digest(digest):
            raise BlobMissing(digest)
        async with _translated(digest):
            answer = await (await self._s3()).get_object(Bucket=self.config.bucket, Key=self.key(digest))
            async with answer["Body"] as stream:
                data = await stream.read()
        return checked(digest, data)

    async def has(self, digest: str) -> bool:
        if not valid_digest(digest):
            return False
        try:
            async with _translated(digest):
                await (await self._s3()).head_object(Bucket=self.config.bucket, Key=self.key(digest))
        except BlobMissing:
            return False
        return True

    async def digests(self) -> AsyncIterator[str]:
        pages = (await self._s3()).get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=self.config.prefix)
        async for page in pages:
            for entry in page.get("Contents", []):
                name = entry["Key"].removeprefix(self.config.prefix)
                if valid_digest(name):
                    yield name

    async def aclose(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()


class _translated:
    """botocore's errors as the blob store's: a missing key is ``BlobMissing``, a server or
    network that does not answer is ``BlobUnavailable``."""

    def __init__(self, digest: str) -> None:
        self.digest = digest

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        _tb: object) -> bool:
        if error is None:
            return False
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                raise BlobMissing(self.digest) from None
            if code.startswith("5") or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                raise BlobUnavailable(self.digest) from error
            return False
        if isinstance(error, (BotoCoreError, OSError, asyncio.TimeoutError)):
            raise BlobUnavailable(self.digest) from error
        return False
