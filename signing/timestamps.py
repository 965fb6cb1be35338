"""RFC 3161 time-stamping: the TSA clients, and timestamps over arbitrary hashes.

A ``TimestampClient`` hands pyhanko a ``TimeStamper`` (used for B-T signatures). There are two
with the same contract: ``DevTimestampClient`` signs tokens in-process with the development
PKI's TSA certificate (certomancer's TSA service behind pyhanko's ``TimeStamper`` interface;
pyhanko's ``DummyTimeStamper`` is RSA-only, and the TSA key is EC so re-loading it per token is
cheap), and ``HttpTimestampClient`` talks RFC 3161 over HTTP to any production TSA.

``DevSm2TimestampClient`` is the development SM2 PKI's TSA (``signing.pki_sm2``), in process too:
SM2 tokens for the portal's GB/T 38540 seal signatures, so that a development OFD is
national-standard throughout (its seal, signer and TSA certificates all SM2 under the one
development SM2 root), as a production OFD stamped by a national-standard TSA would be.

``timestamp_hash`` stamps a SHA-256 digest (the portal uses it on the hash of an ``arrived``
event as evidence of the service time) and returns a ``TimestampToken`` value object;
``verify_timestamp`` checks a stored token against the digest it should cover and the trust
settings. ``async_timestamp_sm3`` stamps the SM3 digest of some bytes (GB/T 38540's
``timeStamp`` over a seal signature's value) and returns the DER token. A TSA that is down
raises ``TimestampUnavailable`` so the caller can retry later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import cms, keys, tsp
from certomancer.services import TimeStamper as CertomancerTsa
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus

from signing.errors import ConfigurationError, TimestampInvalid, TimestampUnavailable
from signing.gm_cms import stamp_imprint
from signing.pki_sm2 import Sm2Credential
from signing.profiles import Credential
from signing.sm2 import sm3
from signing.trust import TrustSettings

__all__ = [
    "DevSm2TimestampClient",
    "DevTimestampClient",
    "HttpTimestampClient",
    "TimestampClient",
    "TimestampToken",
    "async_timestamp_hash",
    "async_timestamp_sm3",
    "async_verify_timestamp",
    "timestamp_hash",
    "verify_timestamp",
]

_SHA256_SIZE = 32


@dataclass(frozen=True)
class TimestampToken:
    """An RFC 3161 token and what it says (as read from it; ``verify_timestamp`` checks it)."""

    token: bytes
    """DER ``TimeStampToken`` (a CMS ``ContentInfo``): the thing to store."""
    gen_time: dt.datetime
    """The TSA's time, aware, in UTC."""
    tsa_name: str
    serial_number: int
    digest: bytes
    """The SHA-256 digest the token covers."""

    @classmethod
    def from_der(cls, token: bytes) -> TimestampToken:
        try:
            content = cms.ContentInfo.load(token)
            tst_info = content["content"]["encap_content_info"]["content"].parsed
            if not isinstance(tst_info, tsp.TSTInfo):
                raise TimestampInvalid("the token does not encapsulate a TSTInfo")
            imprint = tst_info["message_imprint"]
            if imprint["hash_algorithm"]["algorithm"].native != "sha256":
                raise TimestampInvalid("the token's imprint is not SHA-256")
            return cls(
                token=token,
                gen_time=tst_info["gen_time"].native.astimezone(dt.UTC),
                tsa_name=_tsa_name(content["content"], tst_info),
                serial_number=tst_info["serial_number"].native,
                digest=imprint["hashed_message"].native,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TimestampInvalid(f"not a timestamp token: {exc}") from exc


def _tsa_name(signed_data: cms.SignedData, tst_info: tsp.TSTInfo) -> str:
    tsa = tst_info["tsa"]
    if tsa.native is not None and tsa.name == "directory_name":
        return str(tsa.chosen.native.get("common_name") or tsa.chosen.human_friendly)
    for cert in signed_data["certificates"] or ():
        usage = cert.chosen.extended_key_usage_value
        if usage is not None and "time_stamping" in usage.native:
            return str(cert.chosen.subject.native.get("common_name", ""))
    return ""


class TimestampClient(Protocol):
    """A time-stamping authority as pyhanko and ``timestamp_hash`` use it."""

    @property
    def name(self) -> str: ...

    def timestamper(self) -> TimeStamper: ...


class _InProcessTimeStamper(TimeStamper):
    """pyhanko ``TimeStamper`` whose "server" is certomancer's TSA in this process."""

    def __init__(self, tsa: CertomancerTsa) -> None:
        super().__init__()
        self._tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self._tsa.request_tsa_response(req)


class DevTimestampClient:
    """In-process TSA signing with the development PKI's TSA credential."""

    def __init__(self, tsa: Credential) -> None:
        der = serialization.Encoding.DER
        key_der = tsa.private_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._name = str(tsa.certificate.subject.rfc4514_string())
        self._timestamper = _InProcessTimeStamper(
            CertomancerTsa(
                tsa_cert=cms.Certificate.load(tsa.certificate.public_bytes(der)),
                tsa_key=keys.PrivateKeyInfo.load(key_der),
                certs_to_embed=[cms.Certificate.load(cert.public_bytes(der)) for cert in tsa.chain],
            )
        )

    @property
    def name(self) -> str:
        return self._name

    def timestamper(self) -> TimeStamper:
        return self._timestamper


class _InProcessSm2TimeStamper(TimeStamper):
    """pyhanko ``TimeStamper`` whose "server" signs with the development SM2 TSA's key."""

    def __init__(self, tsa: Sm2Credential) -> None:
        super().__init__()
        self._tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        token = stamp_imprint(req["message_imprint"], req["nonce"].native, self._tsa.certificate,
                              self._tsa.private_key, self._tsa.chain)
        return tsp.TimeStampResp({"status": {"status": "granted"},
                                  "time_stamp_token": cms.ContentInfo.load(token)})


class DevSm2TimestampClient:
    """In-process TSA signing with the development SM2 PKI's TSA credential."""

    def __init__(self, tsa: Sm2Credential) -> None:
        self._name = str(tsa.certificate.subject.human_friendly)
        self._timestamper = _InProcessSm2TimeStamper(tsa)

    @property
    def name(self) -> str:
        return self._name

    def timestamper(self) -> TimeStamper:
        return self._timestamper


class HttpTimestampClient:
    """RFC 3161 over HTTP(S) to a production TSA (pyhanko's aiohttp ``HTTPTimeStamper``)."""

    def __init__(self, url: str, *, timeout: float = 10.0, auth: tuple[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError("the TSA URL must be http(s)")
        self._url = url
        self._timestamper = HTTPTimeStamper(url, timeout=timeout, auth=auth)

    @property
    def name(self) -> str:
        return self._url

    def timestamper(self) -> TimeStamper:
        return self._timestamper


async def async_timestamp_hash(client: TimestampClient, sha256_digest: bytes) -> TimestampToken:
    """Ask ``client`` for a token over ``sha256_digest``."""
    if len(sha256_digest) != _SHA256_SIZE:
        raise ConfigurationError("timestamp_hash takes a raw 32-byte SHA-256 digest")
    return TimestampToken.from_der(await _stamp(client, sha256_digest, "sha256"))


async def async_timestamp_sm3(client: TimestampClient, data: bytes) -> bytes:
    """Ask ``client`` for a token over ``SM3(data)``; the DER ``TimeStampToken``."""
    return await _stamp(client, sm3(data), "sm3")


async def _stamp(client: TimestampClient, digest: bytes, algorithm: str) -> bytes:
    """The TSA's token over ``digest``; ``TimestampUnavailable`` when it is down or refuses."""
    try:
        content = await client.timestamper().async_timestamp(digest, algorithm)
    except (OSError, TimeoutError) as exc:
        # pyhanko's TimestampRequestError is an OSError: network failures and refusals alike.
        raise TimestampUnavailable(f"time-stamping authority {client.name} unavailable: {exc}") from exc
    try:
        imprint = content["content"]["encap_content_info"]["content"].parsed["message_imprint"]
        stamped = (imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TimestampInvalid(f"not a timestamp token: {exc}") from exc
    if stamped != (algorithm, digest):
        raise TimestampInvalid("the TSA stamped a different digest than requested")
    return bytes(content.dump())


def timestamp_hash(client: TimestampClient, sha256_digest: bytes) -> TimestampToken:
    """Synchronous ``async_timestamp_hash`` (for workers and the CLI, not inside an event loop)."""
    return asyncio.run(async_timestamp_hash(client, sha256_digest))


async def async_verify_timestamp(
    token: bytes, expected_digest: bytes, trust: TrustSettings
) -> TimestampToken:
    """Check ``token`` covers ``expected_digest`` and chains to a trusted TSA; else raise."""
    parsed = TimestampToken.from_der(token)
    if parsed.digest != expected_digest:
        raise TimestampInvalid("the token covers a different digest")
    context = trust.validation_context()
    try:
        kwargs = await validate_tst_signed_data(
            cms.ContentInfo.load(token)["content"], context, lambda _algorithm: expected_digest
        )
    except Exception as exc:  # pyhanko raises many types for garbled CMS
        raise TimestampInvalid(f"token validation failed: {exc}") from exc
    finally:
        await context.aclose()
    status = TimestampSignatureStatus(**kwargs)
    if not (status.intact and status.valid):
        raise TimestampInvalid("the token's signature does not verify")
    if not status.trusted:
        problem = status.trust_problem_indic
        raise TimestampInvalid(f"the TSA is not trusted ({problem.standard_name if problem else 'unknown'})")
    return parsed


def verify_timestamp(token: bytes, expected_digest: bytes, trust: TrustSettings) -> TimestampToken:
    """Synchronous ``async_verify_timestamp``."""
    return asyncio.run(async_verify_timestamp(token, expected_digest, trust))
