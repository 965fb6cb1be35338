"""PDF signatures whose CMS is SM2/SM3 (GM/T 0010 identifiers): verified like PAdES ones.

The same pyhanko pipeline judges them (byte range and coverage, message digest, signature,
modification analysis, chain and revocation); only the signature check is SM2
(``signing.sm2.GmSignatureValidator``). Every signature value is also checked by OpenSSL 3.
"""

from __future__ import annotations

import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import (
    AlgorithmFamily,
    Indication,
    PadesLevel,
    SignatureSettings,
    SubIndication,
    VerificationContext,
    sign_pdf,
    verify_document,
)
from signing.sm2_signer import Sm2Signer
from tests.signing.gm_corpus import AGENCY, GmCorpus, Sm2Value, openssl_verifies
from tests.signing.sample_pdfs import make_pdf

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
    other = sign_pdf(make_pdf(2), Sm2Signer.from_credential(gm_corpus.signer), SM2_SETTINGS)
    forged_value = _value(other, gm_corpus).signature
    value = _value(sm2_pdf, gm_corpus)
    forged = Sm2Value("forged", value.public_key, value.message, forged_value)
    assert not openssl_verifies(forged)
    start = sm2_pdf.index(value.signature.hex().encode()) if value.signature.hex().encode() in sm2_pdf else -1
    if start < 0:  # /Contents is upper-case hex
        start = sm2_pdf.index(value.signature.hex().upper().encode())
        replacement = forged_value.hex().upper().encode()
    else:
        replacement = forged_value.hex().encode()
    length = len(value.signature.hex())
    if len(replacement) != length:
        pytest.skip("the two signatures have different DER lengths")
    report = verify_document(sm2_pdf[:start] + replacement + sm2_pdf[start + length :], context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.SIG_CRYPTO_FAILURE


def test_rsa_pdf_reports_its_family(agency_rsa: object, context: VerificationContext) -> None:
    report = verify_document(
        sign_pdf(make_pdf(1), agency_rsa, SignatureSettings(level=PadesLevel.B_B)),  # type: ignore[arg-type]
        context,
    )
    assert report.signatures[0].algorithm_family is AlgorithmFamily.RSA
