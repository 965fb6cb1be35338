"""PDF signatures with SM2: verified like PAdES ones, every signature value also by OpenSSL 3.

A CMS with SM2/SM3 under the ordinary identifiers goes through the same pyhanko pipeline (byte
range and coverage, message digest, signature, modification analysis, chain and revocation);
only the signature check is SM2 (``signing.sm2.GmSignatureValidator``). A GB/T 38540 seal or a
GB/T 35275 PKCS#7 in ``/Contents`` (``signing.gm_pdf``) keeps pyhanko's byte-range coverage and
modification analysis and has its value checked by ``signing.gm_verify``.
"""

from __future__ import annotations

import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import (
    AlgorithmFamily,
    Coverage,
    Indication,
    PadesLevel,
    SignatureSettings,
    SubIndication,
    VerificationContext,
    sign_pdf,
    verify_document,
)
from signing.gm_pdf import national_value
from signing.ses import SesVersion
from signing.sm2_signer import Sm2Signer
from tests.signing import hostile
from tests.signing.gm_corpus import (
    AGENCY,
    AGENCY_USCC,
    SEAL_NAME,
    STAMP_BOX,
    GmCorpus,
    Sm2Value,
    national_pdf,
    openssl_verifies,
    value_sm2_values,
)
from tests.signing.sample_pdfs import make_pdf, page_content

SM2_SETTINGS = SignatureSettings(level=PadesLevel.B_B, md_algorithm="sm3")


@pytest.fixture(scope="module")
def sm2_pdf(gm_corpus: GmCorpus) -> bytes:
    return sign_pdf(make_pdf(1), Sm2Signer.from_credential(gm_corpus.signer), SM2_SETTINGS)


def _value(pdf: bytes, gm_corpus: GmCorpus) -> Sm2Value:
    reader = PdfFileReader(io.BytesIO(pdf))
    contents = reader.embedded_signatures[0].sig_object["/Contents"]
    signer_info = cms.ContentInfo.load(bytes(contents))["content"]["signer_infos"][0]
    return Sm2Value(
        "signer",
        gm_corpus.signer.certificate.public_key,
        signer_info["signed_attrs"].untag().dump(),
        signer_info["signature"].native,
    )


def test_sm2_pdf_is_valid_and_openssl_agrees(
    sm2_pdf: bytes, gm_corpus: GmCorpus, context: VerificationContext
) -> None:
    report = verify_document(sm2_pdf, context)
    assert report.indication is Indication.TOTAL_PASSED, report.summary
    (signature,) = report.signatures
    assert signature.algorithm_family is AlgorithmFamily.SM2
    assert (signature.signature_algorithm, signature.digest_algorithm) == ("sm2_sm3", "sm3")
    assert signature.organisation == AGENCY
    assert signature.pades_level is PadesLevel.B_B
    assert openssl_verifies(_value(sm2_pdf, gm_corpus))


def test_sm2_pdf_changed_after_signing_fails(sm2_pdf: bytes, context: VerificationContext) -> None:
    tampered = sm2_pdf.replace(b"<< /Type /Catalog", b"<</Type  /Catalog", 1)  # same length, signed range
    assert tampered != sm2_pdf
    report = verify_document(tampered, context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE


def test_forged_sm2_value_fails_and_openssl_agrees(
    sm2_pdf: bytes, gm_corpus: GmCorpus, context: VerificationContext
) -> None:
    value = _value(sm2_pdf, gm_corpus)
    # another document's SM2 signature, in place of this one's: SM2 signatures are random and
    # their DER length varies by a byte or two, so sign until one fills the same room
    signer = Sm2Signer.from_credential(gm_corpus.signer)
    forged_value = next(forged for forged in (
        _value(sign_pdf(make_pdf(2), signer, SM2_SETTINGS), gm_corpus).signature for _ in range(40))
        if len(forged) == len(value.signature))
    forged = Sm2Value("forged", value.public_key, value.message, forged_value)
    assert not openssl_verifies(forged)
    start = sm2_pdf.index(value.signature.hex().encode()) if value.signature.hex().encode() in sm2_pdf else -1
    if start < 0:  # /Contents is upper-case hex
        start = sm2_pdf.index(value.signature.hex().upper().encode())
        replacement = forged_value.hex().upper().encode()
    else:
        replacement = forged_value.hex().encode()
    length = len(value.signature.hex())
    report = verify_document(sm2_pdf[:start] + replacement + sm2_pdf[start + length :], context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.SIG_CRYPTO_FAILURE


def test_rsa_pdf_reports_its_family(agency_rsa: object, context: VerificationContext) -> None:
    report = verify_document(
        sign_pdf(make_pdf(1), agency_rsa, SignatureSettings(level=PadesLevel.B_B)),  # type: ignore[arg-type]
        context,
    )
    assert report.signatures[0].algorithm_family is AlgorithmFamily.RSA


# -- GB/T 38540 seals and GB/T 35275 PKCS#7 in /Contents -----------------------------------------
@pytest.fixture(scope="module")
def national_pdfs(gm_corpus: GmCorpus) -> dict[str, bytes]:
    document = make_pdf(1)
    signer = gm_corpus.signer
    return {
        "v4": national_pdf(document, signer, seal=gm_corpus.seal()),
        "v1": national_pdf(document, signer, seal=gm_corpus.seal(SesVersion.V1)),
        "pkcs7": national_pdf(document, signer),
    }


def _contents(pdf: bytes) -> bytes:
    signature = PdfFileReader(io.BytesIO(pdf)).root["/AcroForm"]["/Fields"][0]["/V"]
    value = national_value(signature)
    assert value is not None
    return value


@pytest.mark.parametrize(("sample", "standard"), [("v4", "GB/T 38540-2020"), ("v1", "GM/T 0031-2014"),
                                                  ("pkcs7", None)])
def test_national_value_in_a_pdf_is_verified_and_openssl_agrees(
    national_pdfs: dict[str, bytes], context: VerificationContext, sample: str, standard: str | None
) -> None:
    pdf = national_pdfs[sample]
    report = verify_document(pdf, context)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].message
    assert (report.document_format, report.summary) == ("PDF", "此文件的签章有效，签署后未被修改")
    (signature,) = report.signatures
    assert signature.algorithm_family is AlgorithmFamily.SM2 and signature.coverage is Coverage.ENTIRE_FILE
    assert (signature.organisation, signature.organisation_id) == (AGENCY, AGENCY_USCC)
    assert [link.revocation.value for link in signature.certificate_chain] == ["GOOD", "GOOD", "TRUST_ANCHOR"]
    if standard is None:
        assert signature.seal is None
    else:
        assert signature.seal is not None
        assert (signature.seal.name, signature.seal.standard) == (SEAL_NAME, standard)
        assert signature.seal.maker == "国密开发测试制章系统"
        left, bottom, right, top = (value * 25.4 / 72 for value in STAMP_BOX)  # points → mm
        a4_height = 842 * 25.4 / 72  # the box is given from the page's top left, as in OFD
        assert signature.seal.page == 1 and signature.seal.box == pytest.approx(
            (left, a4_height - top, right - left, top - bottom), abs=0.1)
    values = value_sm2_values(_contents(pdf))
    assert len(values) == (1 if standard is None else 2)
    assert all(openssl_verifies(value) for value in values), [value.role for value in values]


@pytest.mark.parametrize("seal", [True, False])
def test_national_value_over_other_bytes_than_the_byte_range_fails(
    gm_corpus: GmCorpus, context: VerificationContext, seal: bool
) -> None:
    pdf = national_pdf(make_pdf(1), gm_corpus.signer, seal=gm_corpus.seal() if seal else None, tamper=True)
    report = verify_document(pdf, context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE


def test_page_text_changed_after_a_national_seal_is_a_disallowed_modification(
    national_pdfs: dict[str, bytes], context: VerificationContext
) -> None:
    replaced = hostile.stream("", page_content(1, ("处罚决定：罚款人民币贰拾万元整。",)))
    report = verify_document(hostile.append_update(national_pdfs["v4"], {hostile.FIRST_CONTENT: replaced}),
                             context)
    assert report.indication is Indication.TOTAL_FAILED
    (signature,) = report.signatures
    assert signature.sub_indication is SubIndication.DISALLOWED_MODIFICATION
    assert signature.coverage is Coverage.ENTIRE_REVISION and signature.seal is not None


def test_a_national_byte_range_that_skips_content_fails_as_a_format(
    national_pdfs: dict[str, bytes], context: VerificationContext
) -> None:
    pdf = national_pdfs["v4"]
    start = pdf.index(b"/ByteRange [") + len(b"/ByteRange [")
    end = pdf.index(b"]", start)
    first, length1, second, length2 = (int(part) for part in pdf[start:end].split())
    skewed = f"{first} {length1 - 10} {second} {length2}".encode().ljust(end - start)
    report = verify_document(pdf[:start] + skewed + pdf[end:], context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.FORMAT_FAILURE
