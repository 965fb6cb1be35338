"""The portal's national-standard seal: an SM2 key file with its certificate and its
GB/T 38540 seal, configured like today's seal; it seals PDFs (SM2/SM3 PAdES) when it is the
only seal and OFD documents always, and everything it seals verifies with the portal's own
verifier and with OpenSSL. A wrong password, a key that is not the certificate's, a seal that
does not name the certificate, a forged or expired seal stop start-up (ASVS v5.0.0-13.3.1: the
password is a secret, never shown)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from pyhanko.pdf_utils.reader import PdfFileReader

from portal.app import create_app
from portal.database import utcnow
from portal.documents.pdf import CjkDocument
from portal.errors import ConfigurationError
from portal.notary import Notary
from portal.settings import load_settings
from signing import AlgorithmFamily, DevPki, DevTimestampClient, Indication, VerificationContext, open_dev_pki
from signing.documents import verify_document
from signing.errors import KeySourceError
from signing.ofd_build import build_ofd
from signing.ses import SealPicture, SesVersion, build_seal
from signing.sm2_signer import Sm2Signer, load_sm2_signer
from tests.signing.gm_corpus import Sm2Value, entries, openssl_verifies, value_sm2_values

PORTAL = "福建省行政执法服务平台"
PASSWORD = "sm2 seal key password"
SQLITE = "sqlite+aiosqlite:///{}"


@pytest.fixture(scope="module")
def outside_ca(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A CA and seal maker that are not the portal's development PKI (the production ones)."""
    return open_dev_pki(tmp_path_factory.mktemp("sm2-production-ca"), portal_name=PORTAL)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, outside_ca: DevPki) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sm2-seal-files")
    credential, seal = outside_ca.sm2.seal_file(PORTAL, None)
    plain = folder / "plain.key.pem"
    plain.write_bytes(pem.armor("PRIVATE KEY", credential.private_key.to_pkcs8()))
    encrypted = folder / "seal.key.pem"
    subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", str(plain),
                    "-out", str(encrypted), "-passout", f"pass:{PASSWORD}"], check=True, timeout=30)
    certs = folder / "seal.crt.pem"
    certs.write_bytes(b"".join(pem.armor("CERTIFICATE", cert.dump())
                               for cert in (credential.certificate, *credential.chain)))
    (folder / "seal.esl").write_bytes(seal)
    roots = folder / "roots"
    roots.mkdir()
    (roots / "sm2-root.pem").write_bytes(pem.armor("CERTIFICATE", outside_ca.sm2.root_certificate.dump()))
    return {"key": encrypted, "plain": plain, "certs": certs, "seal": folder / "seal.esl", "roots": roots,
            "folder": folder}


def _env(tmp_path: Path, files: dict[str, Path], **extra: str) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return {"DATA_DIR": str(data), "DATABASE_URL": SQLITE.format(data / "portal.db"),
            "TRUST_ROOTS_DIR": str(files["roots"]), "TSA_URL": "https://tsa.example.invalid/rfc3161",
            "PORTAL_SEAL_SM2_KEY": str(files["key"]), "PORTAL_SEAL_SM2_KEY_PASSWORD": PASSWORD,
            "PORTAL_SEAL_SM2_CERT": str(files["certs"]), "PORTAL_SEAL_SM2_SEAL": str(files["seal"]), **extra}


def _seal(outside_ca: DevPki, **overrides: object) -> bytes:
    """A seal of the portal made by the production seal maker, with ``overrides``."""
    credential, _ = outside_ca.sm2.seal_file(PORTAL, None)
    maker = outside_ca.sm2.seal_maker()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    arguments: dict[str, object] = dict(
        seal_id="35000000000001", name=f"{PORTAL}电子印章", signer_certs=(credential.certificate,),
        picture=SealPicture("PNG", b"\x89PNG\r\n\x1a\n", 40, 40), valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=365), maker_cert=maker.certificate, maker_key=maker.private_key)
    arguments.update(overrides)
    return build_seal(SesVersion.V4, **arguments)  # type: ignore[arg-type]


async def test_the_sm2_seal_alone_seals_pdfs_and_ofds_that_verify_and_openssl_agrees(
        tmp_path: Path, files: dict[str, Path], outside_ca: DevPki) -> None:
    settings = load_settings(_env(tmp_path, files))
    assert PASSWORD not in repr(settings)
    notary = Notary.from_settings(settings)
    services = await notary.services()
    assert isinstance(services.seal_signer, Sm2Signer) and services.sm2_seal is not None
    # production TSA and revocation need a network: the same seal, checked offline by its CA
    offline = dataclasses.replace(services, trust=outside_ca.trust_settings(),
                                  timestamps=DevTimestampClient(outside_ca.tsa()))
    document = CjkDocument("测试文书", created_at=utcnow())
    document.paragraph("本文书用于测试平台的国密电子印章。")
    placement = document.reserve_seal()
    offline_notary = Notary(lambda: offline)
    pdf = await offline_notary.seal(await asyncio.to_thread(document.output), placement, reason="测试")
    ofd = await offline_notary.seal_ofd(build_ofd("测试文书", ["国密电子印章"]), box_mm=(150, 240, 40, 40))
    context = VerificationContext(trust=offline.trust)
    for sealed in (pdf, ofd):
        report = await asyncio.to_thread(verify_document, sealed, context)
        assert report.indication is Indication.TOTAL_PASSED, report.summary
        (signature,) = report.signatures
        assert signature.algorithm_family is AlgorithmFamily.SM2 and signature.organisation == PORTAL
    pdf_report = await asyncio.to_thread(verify_document, pdf, context)
    assert pdf_report.signatures[0].pades_level is not None
    assert pdf_report.signatures[0].pades_level.value == "B-LT"
    ofd_report = await asyncio.to_thread(verify_document, ofd, context)
    seal = ofd_report.signatures[0].seal
    assert seal is not None and seal.name == f"{PORTAL}电子印章" and seal.maker == "国密开发测试制章系统"
    # the OFD seal is timestamped by the configured TSA, here an ECDSA one as TSA_URL may be
    stamp = ofd_report.signatures[0].timestamp
    assert stamp is not None and stamp.valid and stamp.tsa == "开发测试时间戳服务"
    signer_info = cms.ContentInfo.load(_contents(pdf))["content"]["signer_infos"][0]
    values = [Sm2Value("PDF", services.sm2_seal.signer.certificate.public_key,
                       signer_info["signed_attrs"].untag().dump(), signer_info["signature"].native),
              *value_sm2_values(entries(ofd)["Doc_0/Signs/Sign_0/SignedValue.dat"])]
    assert all(openssl_verifies(value) for value in values), [value.role for value in values]
    await notary.aclose()


def test_every_wrong_key_password_is_called_a_wrong_password(files: dict[str, Path]) -> None:
    """About one wrong password in 256 passes AES-CBC's padding check and decrypts to garbage:
    among 1,000 (each its own PBKDF2 derivation), such ones are almost surely met, and they
    too must say "wrong password", not that the key file is unreadable."""
    for n in range(1000):
        with pytest.raises(KeySourceError, match="wrong password"):
            load_sm2_signer(files["key"], files["certs"], f"wrong {n}".encode())


def _contents(pdf: bytes) -> bytes:
    """The CMS in the (last) signature's ``/Contents`` (zero padding after it)."""
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    return bytes(signature.pkcs7_content)


@pytest.mark.parametrize(("change", "message"), [
    ({"PORTAL_SEAL_SM2_KEY_PASSWORD": "not the password"}, "wrong password"),
    ({"PORTAL_SEAL_SM2_KEY_PASSWORD": ""}, "set PORTAL_SEAL_SM2_KEY_PASSWORD"),
])
def test_a_wrong_or_missing_key_password_stops_start_up_without_showing_it(
        tmp_path: Path, files: dict[str, Path], change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        create_app(load_settings(_env(tmp_path, files, **change)))
    assert PASSWORD not in str(caught.value) and "not the password" not in str(caught.value)


def test_a_plain_key_file_is_read_too_and_a_key_of_another_certificate_is_refused(
        tmp_path: Path, files: dict[str, Path], outside_ca: DevPki) -> None:
    plain = {"PORTAL_SEAL_SM2_KEY": str(files["plain"]), "PORTAL_SEAL_SM2_KEY_PASSWORD": ""}
    notary = Notary.from_settings(load_settings(_env(tmp_path, files, **plain)))
    assert notary is not None
    other = outside_ca.sm2.seal("另一个机构", None)
    other_key = files["folder"] / "other.key.pem"
    other_key.write_bytes(pem.armor("PRIVATE KEY", other.private_key.to_pkcs8()))
    with pytest.raises(ConfigurationError, match="does not belong"):
        create_app(load_settings(_env(tmp_path, files, PORTAL_SEAL_SM2_KEY=str(other_key),
                                      PORTAL_SEAL_SM2_KEY_PASSWORD="")))


@pytest.mark.parametrize(("name", "overrides", "message"), [
    ("another organisation's seal", {"signer_certs": ()}, "does not name"),
    ("expired", {"valid_from": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                 "valid_until": dt.datetime(2021, 1, 1, tzinfo=dt.UTC)}, "valid from 2020-01-01"),
])
def test_a_seal_that_does_not_fit_stops_start_up(
        tmp_path: Path, files: dict[str, Path], outside_ca: DevPki, name: str,
        overrides: dict[str, object], message: str) -> None:
    seal = files["folder"] / f"{name}.esl"
    seal.write_bytes(_seal(outside_ca, **overrides))
    with pytest.raises(ConfigurationError, match=message):
        create_app(load_settings(_env(tmp_path, files, PORTAL_SEAL_SM2_SEAL=str(seal))))


def test_a_seal_whose_maker_signature_is_broken_stops_start_up(
        tmp_path: Path, files: dict[str, Path], outside_ca: DevPki) -> None:
    genuine = _seal(outside_ca)
    forged = files["folder"] / "forged.esl"
    forged.write_bytes(genuine.replace(f"{PORTAL}电子印章".encode(), f"{PORTAL}公章啊啊".encode()))
    with pytest.raises(ConfigurationError, match="maker signature"):
        create_app(load_settings(_env(tmp_path, files, PORTAL_SEAL_SM2_SEAL=str(forged))))


def test_sm2_settings_go_together(tmp_path: Path, files: dict[str, Path]) -> None:
    env = _env(tmp_path, files)
    without_cert = {key: value for key, value in env.items() if key != "PORTAL_SEAL_SM2_CERT"}
    with pytest.raises(ConfigurationError, match="go together"):
        load_settings(without_cert)
    seal_only = {key: value for key, value in env.items()
                 if key not in ("PORTAL_SEAL_SM2_KEY", "PORTAL_SEAL_SM2_CERT")}
    with pytest.raises(ConfigurationError, match="PORTAL_SEAL_SM2_SEAL needs its key"):
        load_settings(seal_only)


async def test_ofd_sealing_without_a_seal_file_is_a_clear_configuration_error(
        tmp_path: Path, files: dict[str, Path]) -> None:
    env = {key: value for key, value in _env(tmp_path, files).items() if key != "PORTAL_SEAL_SM2_SEAL"}
    notary = Notary.from_settings(load_settings(env))
    with pytest.raises(ConfigurationError, match="GB/T 38540 seal file"):
        await notary.seal_ofd(build_ofd("测试", ["一"]), box_mm=(1, 1, 1, 1))
    await notary.aclose()
