"""OFD files sealed with national-standard seals: each verdict agrees with OpenSSL's.

The corpus (``gm_corpus``) holds GB/T 38540-2020 and GM/T 0031-2014 seal signatures, a GB/T
35275 SM2 PKCS#7 signature, a seal with an SM2 timestamp and a document sealed twice. Every
SM2 signature value in each file (signer, seal maker, TSA) is also checked by Debian's
``openssl`` 3 with the GM/T 0009 signer identity, in the same test, and must agree with the
portal. SECURITY.md "Uploads and PDFs" (ASVS v5.0.0-16.5.3: fail closed).
"""

from __future__ import annotations

import base64

import pytest

from signing import AlgorithmFamily, Indication, SubIndication, VerificationContext, verification_cache
from signing.documents import verify_document
from signing.ofd_build import build_ofd, line_top_mm
from signing.ses import SesVersion
from tests.signing.gm_corpus import (
    AGENCY,
    AGENCY_USCC,
    SEAL_NAME,
    GmCorpus,
    entries,
    issued_values,
    openssl_verifies,
    rezip,
    sm2_values,
)


@pytest.mark.parametrize(
    ("sample", "standard"),
    [
        ("v4", "GB/T 38540-2020"),
        ("v1", "GM/T 0031-2014"),
        ("digests_v4", "GB/T 38540-2020"),
        ("v4_timestamped", "GB/T 38540-2020"),
        ("pkcs7", None),
    ],
)
def test_sealed_ofd_is_valid_and_openssl_agrees(
    gm_corpus: GmCorpus, context: VerificationContext, sample: str, standard: str | None
) -> None:
    ofd = getattr(gm_corpus, sample)
    report = verify_document(ofd, context)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].message
    assert report.document_format == "OFD"
    assert report.summary == "此文件的签章有效，签署后未被修改"
    assert report.unprotected_files == ()
    (signature,) = report.signatures
    assert signature.algorithm_family is AlgorithmFamily.SM2
    assert (signature.organisation, signature.organisation_id) == (AGENCY, AGENCY_USCC)
    assert [link.revocation.value for link in signature.certificate_chain] == ["GOOD", "GOOD", "TRUST_ANCHOR"]
    if standard is None:
        assert signature.seal is None
    else:
        assert signature.seal is not None
        assert (signature.seal.name, signature.seal.standard) == (SEAL_NAME, standard)
        assert signature.seal.maker == "国密开发测试制章系统"
        assert signature.seal.picture_png is not None and signature.seal.picture_png[:4] == b"\x89PNG"
        assert (signature.seal.page, signature.seal.box) == (1, (130.0, 230.0, 40.0, 40.0))
    if sample == "v4_timestamped":
        assert signature.timestamp is not None and signature.timestamp.valid
        assert signature.timestamp.tsa == "国密开发测试时间戳服务"
    values = sm2_values(ofd)
    expected_roles = {"pkcs7": 1, "v4_timestamped": 3}.get(sample, 2)
    assert len(values) == expected_roles
    assert all(openssl_verifies(value) for value in values), [v.role for v in values]


def test_sealed_twice_both_valid_first_notes_later_seal(
    gm_corpus: GmCorpus, context: VerificationContext
) -> None:
    report = verify_document(gm_corpus.twice, context)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2
    first, second = report.signatures
    assert first.modifications is not None and first.modifications.description == "签署后仅追加了其他签章"
    assert second.seal is not None and first.seal is None
    assert all(openssl_verifies(value) for value in sm2_values(gm_corpus.twice))


def test_a_changed_page_fails_with_its_name(gm_corpus: GmCorpus, context: VerificationContext) -> None:
    files = entries(gm_corpus.v4)
    files["Doc_0/Pages/Page_0/Content.xml"] = files["Doc_0/Pages/Page_0/Content.xml"].replace(
        "伍仟".encode(), "伍佰".encode()
    )
    report = verify_document(rezip(files), context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE
    assert report.signatures[0].message == "文件 /Doc_0/Pages/Page_0/Content.xml 在签署后被修改"
    assert report.summary == "签署后内容被修改，签章无效"
    # The signature value itself is still the signer's: OpenSSL agrees it verifies.
    assert all(openssl_verifies(value) for value in sm2_values(rezip(files)))


def test_a_file_added_to_the_protected_set_breaks_the_seal(
    gm_corpus: GmCorpus, context: VerificationContext
) -> None:
    files = entries(gm_corpus.v4)
    files["Doc_0/Res/extra.png"] = b"\x89PNG added later"
    signature = files["Doc_0/Signs/Sign_0/Signature.xml"]
    digest = base64.b64encode(b"\x00" * 32).decode()
    files["Doc_0/Signs/Sign_0/Signature.xml"] = signature.replace(
        b"</ofd:References>",
        f'<ofd:Reference FileRef="/Doc_0/Res/extra.png"><ofd:CheckValue>{digest}</ofd:CheckValue>'
        "</ofd:Reference></ofd:References>".encode(),
    )
    report = verify_document(rezip(files), context)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE


def test_an_unprotected_file_is_listed(gm_corpus: GmCorpus, context: VerificationContext) -> None:
    files = entries(gm_corpus.v4)
    files["Doc_0/Attachments/note.txt"] = "签章后附加的说明".encode()
    report = verify_document(rezip(files), context)
    assert report.indication is Indication.TOTAL_PASSED
    assert report.unprotected_files == ("/Doc_0/Attachments/note.txt",)
    assert report.summary == "此文件的签章有效；但有1个文件不受任何签章保护，请查看明细"


def test_an_edited_signature_list_fails(gm_corpus: GmCorpus, context: VerificationContext) -> None:
    files = entries(gm_corpus.v4)
    files["Doc_0/Signs/Signatures.xml"] = files["Doc_0/Signs/Signatures.xml"].replace(
        b"</ofd:Signatures>", b"<!-- edited --></ofd:Signatures>"
    )
    report = verify_document(rezip(files), context)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert report.signatures[0].message == "签名列表文件 Signatures.xml 在签署后被修改"


def test_revoked_seal_certificate(gm_corpus: GmCorpus, context: VerificationContext) -> None:
    pki = gm_corpus.pki
    victim = pki.sm2.seal("将被吊销的测试机构", "11350102MB0000077K")
    ofd = gm_corpus.sealed(gm_corpus.seal(signer_certs=(victim.certificate,)), signer=victim)
    assert verify_document(ofd, context).indication is Indication.TOTAL_PASSED
    pki.sm2.revoke(victim.certificate)
    # A worker trusts the validation it just did until its CRL is due or an hour has passed
    # (signing.verification_cache); then it fetches the new CRL and sees the revocation.
    assert verify_document(ofd, context).indication is Indication.TOTAL_PASSED
    verification_cache.clear()
    report = verify_document(ofd, context)
    assert report.indication is Indication.INDETERMINATE
    assert report.signatures[0].sub_indication is SubIndication.REVOKED_NO_POE
    assert report.signatures[0].certificate_chain[0].revocation.value == "REVOKED"


def test_sm2_pki_certificates_and_crls_verify_with_openssl(gm_corpus: GmCorpus) -> None:
    """GM/T 0015: certificates and CRLs are signed with SM2 and the default signer identity;
    OpenSSL checks every one of those signature values. (``openssl verify`` itself cannot
    build an SM2 chain in OpenSSL 3.0: it reports an EVP error at the intermediate.)"""
    sm2 = gm_corpus.pki.sm2
    values = issued_values(sm2, gm_corpus.signer)
    assert len(values) == 5
    assert all(openssl_verifies(value) for value in values), [v.role for v in values]


def test_v1_and_v4_are_told_apart(gm_corpus: GmCorpus) -> None:
    from signing.ses import read_signature

    v1 = read_signature(entries(gm_corpus.v1)["Doc_0/Signs/Sign_0/SignedValue.dat"])
    v4 = read_signature(entries(gm_corpus.v4)["Doc_0/Signs/Sign_0/SignedValue.dat"])
    assert (v1.version, v4.version) == (SesVersion.V1, SesVersion.V4)
    assert v1.property_info == v4.property_info == "/Doc_0/Signs/Sign_0/Signature.xml"


def test_a_line_wider_than_the_page_wraps_and_line_top_counts_the_wrapped_lines() -> None:
    # a long party name must not run off the page, nor push a stamp off its line
    name = "交款人：" + "某" * 40
    ofd = build_ofd("标题", [name, "开票单位：某局"])
    content = entries(ofd)["Doc_0/Pages/Page_0/Content.xml"].decode()
    assert content.count("<ofd:TextObject ") == 4  # title, the name on two lines, the issuer
    assert line_top_mm("标题", [name, "开票单位：某局"], 1) == 20 + 3 * 9
    assert 'Boundary="20 47 170 8" Font="2" Size="5"><ofd:TextCode X="0" Y="5">开票单位' in content
