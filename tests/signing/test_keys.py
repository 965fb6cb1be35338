"""Key sources: the loaded-key signer, PKCS#12, per-party keys encrypted at rest, trust roots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from signing import (
    ConfigurationError,
    DevPki,
    KeySigner,
    KeySourceError,
    SignatureSettings,
    VerificationContext,
    create_party_key,
    load_party_signer,
    load_pkcs12,
    load_trust_roots,
    party_pseudonym,
    sign_pdf,
    verify_pdf,
)
from tests.signing.conftest import PARTY_SECRET


def test_key_signer_refuses_a_key_that_does_not_match(pki: DevPki) -> None:
    portal, tsa = pki.portal_seal(), pki.tsa()
    with pytest.raises(KeySourceError):
        KeySigner(tsa.private_key, portal.certificate)


@pytest.mark.parametrize("key", ["agency_rsa", "agency_ec"])
def test_dry_run_reserves_at_least_the_real_signature_size(request: pytest.FixtureRequest, key: str) -> None:
    signer: KeySigner = request.getfixturevalue(key)
    dry = asyncio.run(signer.async_sign_raw(b"data", "sha256", dry_run=True))
    real = asyncio.run(signer.async_sign_raw(b"data", "sha256"))
    assert len(dry) >= len(real) and set(dry) == {0}


def test_pkcs12_file_round_trip(
    pki: DevPki, tmp_path: Path, one_page: bytes, context: VerificationContext
) -> None:
    seal = pki.portal_seal()
    path = tmp_path / "portal-seal.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"portal",
            seal.private_key,
            seal.certificate,
            list(seal.chain),
            serialization.BestAvailableEncryption(b"p12-password"),
        )
    )
    signer = load_pkcs12(path, b"p12-password")
    assert verify_pdf(sign_pdf(one_page, signer, SignatureSettings()), context).passed
    with pytest.raises(KeySourceError):
        load_pkcs12(path, b"wrong")


def test_party_key_is_encrypted_at_rest_and_pseudonymous(
    pki: DevPki, one_page: bytes, context: VerificationContext
) -> None:
    party_key = create_party_key(pki, "王五", "350102199001011234", PARTY_SECRET)
    assert party_key.encrypted_private_key.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b"350102199001011234" not in party_key.certificate
    assert party_key.pseudonym == party_pseudonym("350102199001011234", PARTY_SECRET)
    assert party_key.pseudonym != party_pseudonym("350102199001011234", b"another-secret-of-32-bytes-len!!")
    signer = load_party_signer(party_key, PARTY_SECRET)
    report = verify_pdf(sign_pdf(one_page, signer, SignatureSettings()), context)
    assert report.passed and report.signatures[0].signer_name == "王五"
    with pytest.raises(KeySourceError):
        load_party_signer(party_key, b"not-the-secret-but-long-enough!!")
    with pytest.raises(ConfigurationError):
        create_party_key(pki, "王五", "350102199001011234", b"short")


def test_trust_roots_from_a_folder(pki: DevPki, tmp_path: Path) -> None:
    pem = serialization.Encoding.PEM
    bundle = pki.root_certificate.public_bytes(pem) + pki.untrusted_seal().chain[0].public_bytes(pem)
    (tmp_path / "bundle.pem").write_bytes(bundle)
    (tmp_path / "single.cer").write_bytes(pki.root_certificate.public_bytes(serialization.Encoding.DER))
    (tmp_path / "README.txt").write_text("not a certificate")
    assert len(load_trust_roots(tmp_path)) == 3
    with pytest.raises(ConfigurationError):
        load_trust_roots(tmp_path / "missing")
    (tmp_path / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigurationError):
        load_trust_roots(tmp_path)
