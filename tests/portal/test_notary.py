"""``portal.notary``: the signing services come from settings, development or production, never
a mix; the development PKI is generated lazily, once per directory; the portal's seal is
PAdES B-LT with a timestamp and a visible seal, and the portal's own verifier accepts it."""

from __future__ import annotations

import asyncio
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
from portal.web.files import MAX_PDF_BYTES
from signing import (
    DevPki,
    HttpTimestampClient,
    Indication,
    VerificationContext,
    open_dev_pki,
    verify_pdf,
)

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
    assert VerificationContext.__dataclass_fields__["max_bytes"].default == MAX_PDF_BYTES
