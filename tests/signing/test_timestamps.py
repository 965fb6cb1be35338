"""RFC 3161: the in-process TSA and the HTTP client honour one contract (evidence of arrival).

The HTTP client is tested against a real RFC 3161 endpoint on loopback (aiohttp) that signs
with the development TSA, so both clients run the same contract tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization

from signing import (
    ConfigurationError,
    DevPki,
    DevTimestampClient,
    HttpTimestampClient,
    KeySigner,
    PadesLevel,
    SignatureSettings,
    TimestampClient,
    TimestampInvalid,
    TimestampUnavailable,
    TrustSettings,
    VerificationContext,
    async_sign_pdf,
    async_timestamp_hash,
    async_verify_timestamp,
    verify_pdf,
)

DIGEST = hashlib.sha256("arrived: 案件 2026-0001 决定书".encode()).digest()


@pytest_asyncio.fixture
async def http_tsa_url(tsa: DevTimestampClient) -> AsyncIterator[str]:
    async def stamp(request: web.Request) -> web.Response:
        if request.path == "/broken":
            return web.Response(status=500)
        reply = await tsa.timestamper().async_request_tsa_response(
            tsp.TimeStampReq.load(await request.read())
        )
        return web.Response(body=reply.dump(), content_type="application/timestamp-reply")

    app = web.Application()
    app.router.add_post("/{name}", stamp)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest_asyncio.fixture(params=["dev", "http"])
async def client(
    request: pytest.FixtureRequest, tsa: DevTimestampClient, http_tsa_url: str
) -> TimestampClient:
    return tsa if request.param == "dev" else HttpTimestampClient(f"{http_tsa_url}/tsa")


async def test_token_over_a_hash_verifies(client: TimestampClient, trust: TrustSettings) -> None:
    token = await async_timestamp_hash(client, DIGEST)
    assert token.digest == DIGEST and token.tsa_name == "开发测试时间戳服务"
    assert token.gen_time.tzinfo is dt.UTC
    assert abs(dt.datetime.now(dt.UTC) - token.gen_time) < dt.timedelta(minutes=1)
    verified = await async_verify_timestamp(token.token, DIGEST, trust)
    assert (verified.serial_number, verified.gen_time) == (token.serial_number, token.gen_time)


async def test_wrong_digest_or_tampered_token_does_not_verify(
    client: TimestampClient, trust: TrustSettings
) -> None:
    token = await async_timestamp_hash(client, DIGEST)
    with pytest.raises(TimestampInvalid):
        await async_verify_timestamp(token.token, hashlib.sha256(b"other").digest(), trust)
    tampered = bytearray(token.token)
    tampered[-10] ^= 0xFF  # inside the TSA's signature value
    with pytest.raises(TimestampInvalid):
        await async_verify_timestamp(bytes(tampered), DIGEST, trust)
    with pytest.raises(TimestampInvalid):
        await async_verify_timestamp(b"garbage", DIGEST, trust)
    with pytest.raises(ConfigurationError):
        await async_timestamp_hash(client, DIGEST[:31])


async def test_token_from_an_untrusted_tsa_does_not_verify(tsa: DevTimestampClient, pki: DevPki) -> None:
    token = await async_timestamp_hash(tsa, DIGEST)
    stranger = pki.untrusted_seal().chain[0].public_bytes(serialization.Encoding.DER)
    with pytest.raises(TimestampInvalid):
        await async_verify_timestamp(token.token, DIGEST, TrustSettings(trust_roots=(stranger,)))


async def test_tsa_down_or_failing_is_unavailable(http_tsa_url: str) -> None:
    for url in ("http://127.0.0.1:9/tsa", f"{http_tsa_url}/broken"):
        with pytest.raises(TimestampUnavailable):
            await async_timestamp_hash(HttpTimestampClient(url, timeout=2), DIGEST)


async def test_b_t_signature_through_the_http_tsa(
    http_tsa_url: str, agency_rsa: KeySigner, one_page: bytes, context: VerificationContext
) -> None:
    client = HttpTimestampClient(f"{http_tsa_url}/tsa")
    settings = SignatureSettings(level=PadesLevel.B_T)
    signed = await async_sign_pdf(one_page, agency_rsa, settings, timestamps=client)
    report = await asyncio.to_thread(verify_pdf, signed, context)
    assert report.passed and report.signatures[0].pades_level is PadesLevel.B_T
