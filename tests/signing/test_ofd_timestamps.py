"""The timestamp of a GB/T 38540-2020 seal signature (its ``timeStamp``): an RFC 3161 token over
the signature value, added after sealing (``timestamp_newest_seal``) from the development SM2
TSA or from any other (a production ``TSA_URL`` signing with RSA or ECDSA, played by the
development PKI's TSA). The verifier reports its time and TSA and checks it, and a token over
something else or with a broken signature is reported invalid (SECURITY.md "Uploads and PDFs":
fail closed). OpenSSL cross-checks: ``openssl ts -verify`` takes the RSA/ECDSA TSA's token
whole; OpenSSL 3.0 verifies no SM2 certificate or CMS signature (it applies no SM2 signer
identity there), so of an SM2 token it checks the TSA's signature value (``pkeyutl`` with the
GM/T 0009 identity) and the test compares the imprint with SM3 of the seal's signature value.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, pem

from signing import (
    DevPki,
    DevSm2TimestampClient,
    DevTimestampClient,
    Indication,
    SubIndication,
    TimestampClient,
    VerificationContext,
    async_timestamp_sm3,
    messages,
)
from signing.documents import verify_document
from signing.ofd_build import timestamp_newest_seal
from signing.ses import attach_timestamp, read_signature
from signing.sm2 import sm3
from tests.signing.gm_corpus import GmCorpus, entries, openssl_verifies, rezip, value_sm2_values

VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"


def _stamped(corpus: GmCorpus, client: TimestampClient) -> bytes:
    return asyncio.run(timestamp_newest_seal(corpus.v4, lambda value: async_timestamp_sm3(client, value)))


@pytest.fixture(scope="module")
def sm2_stamped(gm_corpus: GmCorpus, pki: DevPki) -> bytes:
    return _stamped(gm_corpus, DevSm2TimestampClient(pki.sm2.tsa()))


def _openssl_ts_verifies(token: bytes, signature: bytes, roots: list[bytes], folder: Path) -> bool:
    """``openssl ts -verify`` of ``token`` against ``SM3(signature)`` and ``roots``."""
    (folder / "token.der").write_bytes(token)
    (folder / "roots.pem").write_bytes(b"".join(pem.armor("CERTIFICATE", root) for root in roots))
    result = subprocess.run(
        ["openssl", "ts", "-verify", "-token_in", "-in", str(folder / "token.der"),
         "-digest", sm3(signature).hex(), "-CAfile", str(folder / "roots.pem")],
        capture_output=True, check=False, timeout=30)
    return result.returncode == 0 and b"Verification: OK" in result.stdout


def test_an_sm2_timestamp_over_the_seal_signature_verifies_and_openssl_agrees(
        sm2_stamped: bytes, gm_corpus: GmCorpus, context: VerificationContext) -> None:
    before = dt.datetime.now(dt.UTC)
    report = verify_document(sm2_stamped, context)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].message
    stamp = report.signatures[0].timestamp
    assert stamp is not None and stamp.valid and stamp.tsa == "国密开发测试时间戳服务"
    assert before - dt.timedelta(minutes=5) <= stamp.time <= dt.datetime.now(dt.UTC)
    # the signed part is untouched: the same signature value as before stamping
    ses = read_signature(entries(sm2_stamped)[VALUE])
    assert ses.signature == read_signature(entries(gm_corpus.v4)[VALUE]).signature
    assert ses.timestamp is not None
    imprint = cms.ContentInfo.load(ses.timestamp)["content"]["encap_content_info"]["content"].parsed[
        "message_imprint"]
    assert (imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native) == (
        "sm3", sm3(ses.signature))
    # the TSA's SM2 signature, by OpenSSL with the GM/T 0009 identity
    (tsa_value,) = [value for value in value_sm2_values(entries(sm2_stamped)[VALUE])
                    if value.role == "timestamp authority"]
    assert openssl_verifies(tsa_value)


def test_a_timestamp_from_an_rsa_or_ecdsa_tsa_verifies_too_and_openssl_agrees(
        gm_corpus: GmCorpus, pki: DevPki, tsa: DevTimestampClient, context: VerificationContext,
        tmp_path: Path) -> None:
    stamped = _stamped(gm_corpus, tsa)
    report = verify_document(stamped, context)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].message
    stamp = report.signatures[0].timestamp
    assert stamp is not None and stamp.valid and stamp.tsa == "开发测试时间戳服务"
    ses = read_signature(entries(stamped)[VALUE])
    assert ses.timestamp is not None
    roots = list(pki.trust_settings().trust_roots)
    assert _openssl_ts_verifies(ses.timestamp, ses.signature, roots, tmp_path)
    # and OpenSSL refuses it for another signature value, as the portal does
    assert not _openssl_ts_verifies(ses.timestamp, ses.signature[::-1], roots, tmp_path)


def _replace_token(ofd: bytes, token: bytes) -> bytes:
    files = entries(ofd)
    files[VALUE] = attach_timestamp(files[VALUE], token)
    return rezip(files)


def _flip_tsa_signature(token: bytes) -> bytes:
    content = cms.ContentInfo.load(token)
    signer = content["content"]["signer_infos"][0]
    value = bytearray(signer["signature"].native)
    value[len(value) // 2] ^= 0x01
    signer["signature"] = bytes(value)
    return content.dump(force=True)


@pytest.mark.parametrize("tamper", ["another signature's token", "broken TSA signature", "not a token"])
def test_a_tampered_timestamp_is_reported(
        sm2_stamped: bytes, gm_corpus: GmCorpus, context: VerificationContext, tamper: str) -> None:
    token = read_signature(entries(sm2_stamped)[VALUE]).timestamp
    assert token is not None
    if tamper == "another signature's token":
        resealed = dataclasses.replace(gm_corpus, v4=gm_corpus.sealed(gm_corpus.seal()))
        other = _stamped(resealed, DevSm2TimestampClient(gm_corpus.pki.sm2.tsa()))
        replacement = read_signature(entries(other)[VALUE]).timestamp or b""
    elif tamper == "broken TSA signature":
        replacement = _flip_tsa_signature(token)
    else:
        replacement = b"\x30\x03\x02\x01\x01"
    report = verify_document(_replace_token(sm2_stamped, replacement), context)
    (signature,) = report.signatures
    assert signature.indication is Indication.INDETERMINATE
    assert signature.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert signature.message == messages.TIMESTAMP_INVALID
    assert signature.timestamp is not None and not signature.timestamp.valid

