"""``portal.notary``: the signing services come from settings, development or production, never
a mix; the development PKI is generated lazily, once per directory; the portal's seal is
PAdES B-LT with a timestamp and a visible seal, and the portal's own verifier accepts it.
In production the seal comes from a PKCS#12 file or a PKCS#11 token, never both."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.app import create_app
from portal.database import utcnow
from portal.documents.pdf import CjkDocument
from portal.errors import ConfigurationError
from portal.notary import Notary, dev_pki_dir
from portal.settings import load_settings
from portal.web.files import MAX_DOCUMENT_BYTES
from signing import (
    DevPki,
    DevTimestampClient,
    HttpTimestampClient,
    Indication,
    KeySourceError,
    SignatureSettings,
    TokenSigner,
    VerificationContext,
    open_dev_pki,
    sign_pdf,
    verify_pdf,
)
from tests.conftest import HSM_PORTAL_NAME
from tests.signing.softhsm import SoftHsmToken

SQLITE = "sqlite+aiosqlite:///{}"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(data_dir), "DATABASE_URL": SQLITE.format(data_dir / "portal.db"), **extra}


@pytest.fixture
def outside_ca(tmp_path: Path) -> DevPki:
    """A CA that is not the portal's development PKI: it stands for the production CA."""
    return open_dev_pki(tmp_path / "production-ca", portal_name="福建省行政执法服务平台")


@pytest.fixture
def production_env(tmp_path: Path, outside_ca: DevPki) -> dict[str, str]:
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "root.pem").write_bytes(outside_ca.root_certificate.public_bytes(serialization.Encoding.PEM))
    seal = outside_ca.portal_seal()
    p12 = tmp_path / "portal-seal.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"portal-seal", seal.private_key, seal.certificate, list(seal.chain),
        serialization.BestAvailableEncryption(b"correct horse")))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return _env(data_dir, TRUST_ROOTS_DIR=str(roots), PORTAL_SEAL_P12=str(p12),
                PORTAL_SEAL_P12_PASSWORD="correct horse", TSA_URL="https://tsa.example.invalid/rfc3161")


async def test_production_settings_use_the_configured_roots_seal_and_tsa(
        production_env: dict[str, str], outside_ca: DevPki) -> None:
    settings = load_settings(production_env)
    notary = Notary.from_settings(settings)
    services = await notary.services()
    root = outside_ca.root_certificate.public_bytes(serialization.Encoding.DER)
    assert services.trust.trust_roots == (root,)
    assert services.trust.dev_pki_dir is None and services.trust.fetch_online  # real revocation
    assert services.dev_pki is None
    assert isinstance(services.timestamps, HttpTimestampClient)
    assert services.timestamps.name == "https://tsa.example.invalid/rfc3161"
    assert services.seal_signer.signing_cert is not None
    seal_subject = services.seal_signer.signing_cert.subject.native
    assert seal_subject["organization_name"] == "福建省行政执法服务平台"
    assert not dev_pki_dir(settings.data_dir).exists()  # the development PKI is never made


def test_a_partial_production_configuration_is_refused_at_start_up(production_env: dict[str, str]) -> None:
    for missing in ("TRUST_ROOTS_DIR", "PORTAL_SEAL_P12", "TSA_URL"):
        env = {key: value for key, value in production_env.items() if key != missing}
        with pytest.raises(ConfigurationError, match=missing):
            load_settings(env)


def test_a_wrong_seal_password_stops_start_up(production_env: dict[str, str]) -> None:
    settings = load_settings({**production_env, "PORTAL_SEAL_P12_PASSWORD": "wrong"})
    with pytest.raises(ConfigurationError, match="PKCS#12"):
        create_app(settings)


async def test_development_pki_is_made_at_start_up_not_when_the_app_is_built(tmp_path: Path) -> None:
    # creating an app (every test does) must stay cheap; the lifespan pays for the PKI
    settings = load_settings(_env(tmp_path))
    app = create_app(settings)
    assert not dev_pki_dir(tmp_path).exists()
    async with app.router.lifespan_context(app):
        assert (dev_pki_dir(tmp_path) / "portal-seal.crt.pem").exists()


async def test_development_services_are_opened_once_per_directory(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path))
    first, second = Notary.from_settings(settings), Notary.from_settings(settings)
    assert await first.services() is await second.services()


async def test_the_portal_seal_is_b_lt_timestamped_visible_and_verifies(tmp_path: Path) -> None:
    async with Notary.from_settings(load_settings(_env(tmp_path))) as notary:
        document = CjkDocument("测试文书", created_at=utcnow())
        document.paragraph("本文书用于测试平台电子印章。")
        placement = document.reserve_seal()
        sealed = await notary.seal(await asyncio.to_thread(document.output), placement, reason="测试")
        in_worker = await notary.verify(sealed)
        context = await notary.verification_context()
    in_process = await asyncio.to_thread(verify_pdf, sealed, context)
    for report in (in_worker, in_process):
        assert report.indication is Indication.TOTAL_PASSED, report.summary
        (seal,) = report.signatures
        assert seal.pades_level is not None and seal.pades_level.value == "B-LT"
        assert seal.timestamp is not None and seal.timestamp.valid
    assert b"/Subtype /Widget" in sealed or b"/Subtype/Widget" in sealed  # the visible seal


def test_verification_context_matches_the_upload_limit() -> None:
    # the web edge refuses above 20 MiB; the verifier's own limit is the same
    assert VerificationContext.__dataclass_fields__["max_bytes"].default == MAX_DOCUMENT_BYTES


@pytest.fixture
def token_production_env(tmp_path: Path, hsm_pki: DevPki, softhsm_token: SoftHsmToken) -> dict[str, str]:
    roots = tmp_path / "hsm-roots"
    roots.mkdir()
    (roots / "root.pem").write_bytes(hsm_pki.root_certificate.public_bytes(serialization.Encoding.PEM))
    data_dir = tmp_path / "hsm-data"
    data_dir.mkdir()
    return _env(data_dir, TRUST_ROOTS_DIR=str(roots), TSA_URL="https://tsa.example.invalid/rfc3161",
                PORTAL_SEAL_PKCS11_MODULE=str(softhsm_token.module),
                PORTAL_SEAL_PKCS11_TOKEN=softhsm_token.label, PORTAL_SEAL_PKCS11_KEY_LABEL="portal-seal",
                PORTAL_SEAL_PKCS11_PIN=softhsm_token.pin)


_TOKEN_ENV = {"PORTAL_SEAL_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
              "PORTAL_SEAL_PKCS11_TOKEN": "portal-hsm", "PORTAL_SEAL_PKCS11_KEY_LABEL": "portal-seal",
              "PORTAL_SEAL_PKCS11_PIN": "pin-of-the-seal-token"}


def test_a_seal_from_both_a_pkcs12_file_and_a_token_is_refused(production_env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        load_settings({**production_env, **_TOKEN_ENV})


def test_a_token_seal_completes_the_production_trio_and_keeps_its_pin_out_of_repr(
        production_env: dict[str, str]) -> None:
    env = {key: value for key, value in production_env.items() if not key.startswith("PORTAL_SEAL_P12")}
    settings = load_settings({**env, **_TOKEN_ENV})
    token = settings.signing.portal_seal_pkcs11
    assert token is not None and settings.signing.portal_seal_p12 is None
    assert (token.token_label, token.key_label) == ("portal-hsm", "portal-seal")
    assert "pin-of-the-seal-token" not in repr(settings)  # v5.0.0-13.3.1: the PIN is a secret
    without_tsa = {key: value for key, value in env.items() if key != "TSA_URL"}
    with pytest.raises(ConfigurationError, match="TSA_URL"):
        load_settings({**without_tsa, **_TOKEN_ENV})


def test_an_incomplete_token_configuration_is_refused_at_start_up(production_env: dict[str, str]) -> None:
    env = {key: value for key, value in production_env.items() if not key.startswith("PORTAL_SEAL_P12")}
    for missing in _TOKEN_ENV:
        partial = {key: value for key, value in _TOKEN_ENV.items() if key != missing}
        with pytest.raises(ConfigurationError, match=missing) as caught:
            load_settings({**env, **partial})
        assert "pin-of-the-seal-token" not in str(caught.value)


async def test_with_a_token_configured_the_notary_seals_with_it_and_the_seal_validates(
        token_production_env: dict[str, str], hsm_pki: DevPki) -> None:
    notary = Notary.from_settings(load_settings(token_production_env))
    services = await notary.services()
    assert isinstance(services.seal_signer, TokenSigner)
    assert services.trust.trust_roots == (hsm_pki.root_certificate.public_bytes(serialization.Encoding.DER),)
    # The production TSA and online revocation need a network; the seal is the token's, checked
    # against its CA's in-process TSA and revocation answers instead.
    offline = dataclasses.replace(services, trust=hsm_pki.trust_settings(),
                                  timestamps=DevTimestampClient(hsm_pki.tsa()))
    document = CjkDocument("测试文书", created_at=utcnow())
    document.paragraph("本文书用于测试硬件密码模块中的平台电子印章。")
    placement = document.reserve_seal()
    sealed = await Notary(lambda: offline).seal(await asyncio.to_thread(document.output), placement,
                                                reason="测试")
    report = await asyncio.to_thread(verify_pdf, sealed, VerificationContext(trust=offline.trust))
    assert report.indication is Indication.TOTAL_PASSED, report.summary
    (seal,) = report.signatures
    assert seal.organisation == HSM_PORTAL_NAME
    assert seal.pades_level is not None and seal.pades_level.value == "B-LT"
    await notary.aclose()  # logs out of the token: the seal cannot be used any more
    with pytest.raises(KeySourceError, match="closed"):
        await asyncio.to_thread(sign_pdf, sealed, services.seal_signer, SignatureSettings())


def test_a_wrong_token_pin_stops_start_up_without_showing_it(
        token_production_env: dict[str, str]) -> None:
    settings = load_settings({**token_production_env, "PORTAL_SEAL_PKCS11_PIN": "not-the-pin-42"})
    with pytest.raises(ConfigurationError, match="wrong PIN") as caught:
        create_app(settings)
    assert "not-the-pin-42" not in str(caught.value)
