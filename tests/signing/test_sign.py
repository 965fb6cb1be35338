"""Signing with every kind of key at every level, then verifying: the happy paths.

FJ art. 18 / GD art. 27-28: e-seals and e-signatures must verify as such; these tests prove
the portal's own output does (SECURITY.md "Uploads and PDFs" covers the hostile side)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import (
    ConfigurationError,
    Coverage,
    DevTimestampClient,
    Indication,
    KeySigner,
    ModificationLevel,
    PadesLevel,
    RevocationStatus,
    SealPlacement,
    SignatureKind,
    SignatureSettings,
    SigningFailed,
    TrustSettings,
    VerificationContext,
    sign_pdf,
    verify_pdf,
)
from tests.signing.conftest import AGENCY_NAME, AGENCY_USCC
from tests.signing.hostile import encrypted

LEVELS = [PadesLevel.B_B, PadesLevel.B_T, PadesLevel.B_LT]
BOX = (380.0, 60.0, 520.0, 200.0)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("key", ["agency_rsa", "agency_ec", "portal_signer", "party_signer"])
def test_each_key_at_each_level_validates_total_passed(
    request: pytest.FixtureRequest,
    key: str,
    level: PadesLevel,
    one_page: bytes,
    tsa: DevTimestampClient,
    trust: TrustSettings,
    context: VerificationContext,
) -> None:
    signer: KeySigner = request.getfixturevalue(key)
    signed = sign_pdf(one_page, signer, SignatureSettings(level=level), timestamps=tsa, trust=trust)
    report = verify_pdf(signed, context)
    assert report.indication is Indication.TOTAL_PASSED, report.summary
    assert report.summary == "此文件的签章有效，签署后未被修改"
    (signature,) = report.signatures
    assert signature.pades_level is level
    expected_kind = SignatureKind.SIGNATURE if key == "party_signer" else SignatureKind.SEAL
    assert signature.kind is expected_kind
    assert (signature.timestamp is not None) == (level is not PadesLevel.B_B)
    assert all(
        cert.revocation in (RevocationStatus.GOOD, RevocationStatus.TRUST_ANCHOR)
        for cert in signature.certificate_chain
    )
    assert signature.certificate_chain[-1].revocation is RevocationStatus.TRUST_ANCHOR


def test_agency_seal_report_names_the_agency(
    agency_rsa: KeySigner, one_page: bytes, tsa: DevTimestampClient, context: VerificationContext
) -> None:
    signed = sign_pdf(one_page, agency_rsa, SignatureSettings(level=PadesLevel.B_T), timestamps=tsa)
    (signature,) = verify_pdf(signed, context).signatures
    assert (signature.organisation, signature.organisation_id) == (AGENCY_NAME, AGENCY_USCC)
    assert signature.digest_algorithm == "sha256"
    assert signature.signature_algorithm == "sha256_rsa"
    assert signature.coverage is Coverage.ENTIRE_FILE
    assert signature.timestamp is not None and signature.timestamp.valid
    assert signature.timestamp.tsa == "开发测试时间戳服务"


def test_party_certificate_does_not_carry_the_subject_id(party_signer: KeySigner) -> None:
    assert party_signer.signing_cert is not None
    subject = party_signer.signing_cert.subject.native
    assert subject["common_name"] == "张三"
    assert "oidc|subject-42" not in party_signer.signing_cert.dump().decode("latin-1")
    assert len(subject["serial_number"]) == 32


def test_visible_seal_is_placed_at_the_requested_box(
    portal_signer: KeySigner, one_page: bytes, context: VerificationContext
) -> None:
    settings = SignatureSettings(placement=SealPlacement(page=0, box=BOX), field_name="送达回证")
    signed = sign_pdf(one_page, portal_signer, settings)
    reader = PdfFileReader(io.BytesIO(signed))
    widget = reader.root["/AcroForm"]["/Fields"][0].get_object()
    assert [float(v) for v in widget["/Rect"]] == list(BOX)
    appearance = widget["/AP"]["/N"]
    images = [
        xobject.get_object()
        for xobject in _all_xobjects(appearance)
        if xobject.get_object().get("/Subtype") == "/Image"
    ]
    assert images and images[0].get("/SMask") is not None  # the seal keeps its transparency
    assert verify_pdf(signed, context).passed


def _all_xobjects(form: object) -> list:
    found = []
    resources = form.get_object().get("/Resources", {})  # type: ignore[attr-defined]
    for value in resources.get("/XObject", {}).values():
        found.append(value)
        found.extend(_all_xobjects(value))
    return found


def test_invisible_signature_has_an_empty_widget(agency_ec: KeySigner, one_page: bytes) -> None:
    signed = sign_pdf(one_page, agency_ec, SignatureSettings())
    widget = PdfFileReader(io.BytesIO(signed)).root["/AcroForm"]["/Fields"][0].get_object()
    assert [float(v) for v in widget["/Rect"]] == [0.0, 0.0, 0.0, 0.0]


def test_hundred_pages_and_foreign_producers_sign_and_verify(
    agency_rsa: KeySigner,
    hundred_pages: bytes,
    pillow_pdf: bytes,
    tsa: DevTimestampClient,
    trust: TrustSettings,
    context: VerificationContext,
) -> None:
    placement = SealPlacement(page=-1, box=BOX)
    for document in (hundred_pages, pillow_pdf):
        settings = SignatureSettings(level=PadesLevel.B_LT, placement=placement)
        signed = sign_pdf(document, agency_rsa, settings, timestamps=tsa, trust=trust)
        assert verify_pdf(signed, context).passed


def test_b_lta_adds_a_document_timestamp(
    portal_signer: KeySigner,
    one_page: bytes,
    tsa: DevTimestampClient,
    trust: TrustSettings,
    context: VerificationContext,
) -> None:
    settings = SignatureSettings(level=PadesLevel.B_LTA)
    signed = sign_pdf(one_page, portal_signer, settings, timestamps=tsa, trust=trust)
    (signature,) = verify_pdf(signed, context).signatures
    assert signature.pades_level is PadesLevel.B_LTA
    assert signature.archive_timestamp is not None and signature.archive_timestamp.valid


def test_party_then_portal_signature_both_pass_second_is_allowed_change(
    party_signer: KeySigner,
    portal_signer: KeySigner,
    one_page: bytes,
    tsa: DevTimestampClient,
    context: VerificationContext,
) -> None:
    consent = sign_pdf(
        one_page, party_signer, SignatureSettings(level=PadesLevel.B_T, certify=True), timestamps=tsa
    )
    sealed = sign_pdf(consent, portal_signer, SignatureSettings(level=PadesLevel.B_T), timestamps=tsa)
    report = verify_pdf(sealed, context)
    assert report.passed, report.summary
    first, second = report.signatures
    assert first.certifying and first.modifications is not None
    assert first.modifications.level is ModificationLevel.FORM_FILLING
    assert first.modifications.description == "签署后仅追加了其他签名或签章"
    assert second.coverage is Coverage.ENTIRE_FILE
    assert report.summary == "此文件的签章有效，签署后未被修改"


def test_one_signer_serves_concurrent_requests(
    agency_rsa: KeySigner, one_page: bytes, context: VerificationContext
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        signed = list(pool.map(lambda _: sign_pdf(one_page, agency_rsa, SignatureSettings()), range(16)))
    assert all(verify_pdf(document, context).passed for document in signed)
    assert len({document for document in signed}) == 16


def test_level_prerequisites_are_checked(
    agency_rsa: KeySigner, one_page: bytes, tsa: DevTimestampClient
) -> None:
    with pytest.raises(ConfigurationError):
        sign_pdf(one_page, agency_rsa, SignatureSettings(level=PadesLevel.B_T))
    with pytest.raises(ConfigurationError):
        sign_pdf(one_page, agency_rsa, SignatureSettings(level=PadesLevel.B_LT), timestamps=tsa)
    with pytest.raises(ConfigurationError):
        SealPlacement(page=0, box=(100, 100, 50, 200))


def test_unsignable_input_raises_signing_failed(agency_rsa: KeySigner, one_page: bytes) -> None:
    for document in (encrypted(one_page), b"not a pdf", one_page[: len(one_page) // 3]):
        with pytest.raises(SigningFailed):
            sign_pdf(document, agency_rsa, SignatureSettings())
