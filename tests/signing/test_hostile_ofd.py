"""Hostile OFD files, verified through the worker-process runner like hostile PDFs.

SECURITY.md "Uploads and PDFs" (ASVS v5.0.0-5.2.x, 15.2.2, 16.5.3) and PITFALLS.md "OFD
containers": zip bombs, traversal and duplicate entry names, XXE and billion-laughs XML, a
signature that points outside the package, a seal whose maker signature is broken, an expired
seal, a seal certificate that is expired or under an untrusted root, and a valid SM2 value
over different references. Each gets its verdict in Chinese within the workers' budget; none
is TOTAL_PASSED, none raises.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import warnings
import zipfile
from collections.abc import Callable

import pytest

from signing import FileProblem, Indication, SubIndication, VerificationRunner
from signing.sm2 import Sm2PrivateKey
from tests.signing.gm_corpus import GmCorpus, entries, rezip

BUDGET_SECONDS = 20.0


def zip_bomb(corpus: GmCorpus) -> bytes:
    files = entries(corpus.v4)
    files["Doc_0/Res/bomb.bin"] = b"\0" * (80 * 1024 * 1024)
    return rezip(files)


def traversal(corpus: GmCorpus) -> bytes:
    return rezip([*entries(corpus.v4).items(), ("../../etc/cron.d/evil", b"* * * * * root id")])


def duplicate_names(corpus: GmCorpus) -> bytes:
    files = entries(corpus.v4)
    forged = files["Doc_0/Pages/Page_0/Content.xml"].replace("伍仟".encode(), "伍佰".encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate
        return rezip([*files.items(), ("Doc_0/Pages/Page_0/Content.xml", forged)])


def xxe(corpus: GmCorpus) -> bytes:
    files = entries(corpus.v4)
    files["OFD.xml"] = (
        files["OFD.xml"]
        .replace(
            b'<?xml version="1.0" encoding="UTF-8"?>',
            b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        )
        .replace(b"<ofd:Title>", b"<ofd:Title>&x;")
    )
    return rezip(files)


def billion_laughs(corpus: GmCorpus) -> bytes:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE s [<!ENTITY l0 "lol">{entities}]>'.encode()
    files = entries(corpus.v4)
    files["Doc_0/Signs/Signatures.xml"] = (
        files["Doc_0/Signs/Signatures.xml"]
        .replace(b"?>", b"?>" + doctype, 1)
        .replace(b"<ofd:MaxSignId>", b"<ofd:MaxSignId>&l9;")
    )
    return rezip(files)


def points_outside(corpus: GmCorpus) -> bytes:
    files = entries(corpus.v4)
    files["Doc_0/Signs/Signatures.xml"] = files["Doc_0/Signs/Signatures.xml"].replace(
        b'BaseLoc="Sign_0/Signature.xml"', b'BaseLoc="../../../../outside/Signature.xml"'
    )
    return rezip(files)


def reference_outside(corpus: GmCorpus) -> bytes:
    files = entries(corpus.v4)
    files["Doc_0/Signs/Sign_0/Signature.xml"] = files["Doc_0/Signs/Sign_0/Signature.xml"].replace(
        b'FileRef="/Doc_0/Document.xml"', b'FileRef="../../../../../etc/passwd"'
    )
    return rezip(files)


def broken_maker(corpus: GmCorpus) -> bytes:
    return corpus.sealed(corpus.seal(maker_key=Sm2PrivateKey.generate()))


def expired_seal(corpus: GmCorpus) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seal = corpus.seal(valid_from=now - dt.timedelta(days=400), valid_until=now - dt.timedelta(days=35))
    return corpus.sealed(seal)


def expired_certificate(corpus: GmCorpus) -> bytes:
    expired = corpus.pki.sm2.expired_seal()
    return corpus.sealed(corpus.seal(signer_certs=(expired.certificate,)), signer=expired)


def untrusted_certificate(corpus: GmCorpus) -> bytes:
    untrusted = corpus.pki.sm2.untrusted_seal()
    return corpus.sealed(corpus.seal(signer_certs=(untrusted.certificate,)), signer=untrusted)


def foreign_seal(corpus: GmCorpus) -> bytes:
    """A seal bound to another organisation's certificate, used by this signer."""
    other = corpus.pki.sm2.seal("另一家测试机构", "11350102MB0000088P")
    return corpus.sealed(corpus.seal(signer_certs=(other.certificate,)))


def value_over_other_references(corpus: GmCorpus) -> bytes:
    """A genuine SM2 signature value, but over another document's ``Signature.xml``."""
    other = entries(corpus.sealed(corpus.seal(), document=corpus.pkcs7))
    files = entries(corpus.v4)
    files["Doc_0/Signs/Sign_0/SignedValue.dat"] = other["Doc_0/Signs/Sign_1/SignedValue.dat"]
    return rezip(files)


def not_a_zip(corpus: GmCorpus) -> bytes:
    return b"PK\x03\x04" + b"\x00" * 200


Case = tuple[Callable[[GmCorpus], bytes], Indication, set[SubIndication | None] | None, FileProblem | None]
CASES: dict[str, Case] = {
    "zip bomb": (zip_bomb, Indication.INDETERMINATE, None, FileProblem.TOO_COMPLEX),
    "traversal name": (traversal, Indication.INDETERMINATE, None, FileProblem.UNSAFE_PACKAGE),
    "duplicate names": (duplicate_names, Indication.INDETERMINATE, None, FileProblem.UNSAFE_PACKAGE),
    "XXE": (xxe, Indication.INDETERMINATE, None, FileProblem.UNSAFE_PACKAGE),
    "billion laughs": (billion_laughs, Indication.INDETERMINATE, None, FileProblem.UNSAFE_PACKAGE),
    "signature outside": (points_outside, Indication.TOTAL_FAILED, {SubIndication.FORMAT_FAILURE}, None),
    "reference outside": (reference_outside, Indication.TOTAL_FAILED, {SubIndication.FORMAT_FAILURE}, None),
    "broken maker signature": (
        broken_maker,
        Indication.TOTAL_FAILED,
        {SubIndication.SIG_CRYPTO_FAILURE},
        None,
    ),
    "expired seal": (expired_seal, Indication.INDETERMINATE, {SubIndication.SIG_CONSTRAINTS_FAILURE}, None),
    "expired certificate": (
        expired_certificate,
        Indication.INDETERMINATE,
        {SubIndication.OUT_OF_BOUNDS_NO_POE},
        None,
    ),
    "untrusted root": (
        untrusted_certificate,
        Indication.INDETERMINATE,
        {SubIndication.NO_CERTIFICATE_CHAIN_FOUND},
        None,
    ),
    "seal of another": (
        foreign_seal,
        Indication.INDETERMINATE,
        {SubIndication.SIG_CONSTRAINTS_FAILURE},
        None,
    ),
    "value over other references": (
        value_over_other_references,
        Indication.TOTAL_FAILED,
        {SubIndication.HASH_FAILURE},
        None,
    ),
    "not a zip": (not_a_zip, Indication.INDETERMINATE, None, FileProblem.NOT_PDF),
}
MESSAGES = {
    "broken maker signature": "电子印章数据的制章者签名无效，印章可能被伪造或篡改",
    "expired seal": "签章时电子印章不在有效期内",
    "seal of another": "签章人证书不属于该电子印章",
    "reference outside": "签名引用了文件包以外的位置（../../../../../etc/passwd）",
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_ofd_gets_its_verdict(
    gm_corpus: GmCorpus, runner: VerificationRunner, name: str
) -> None:
    build, indication, subs, problem = CASES[name]
    data = build(gm_corpus)
    started = time.monotonic()
    report = await runner.verify(data)
    assert time.monotonic() - started < BUDGET_SECONDS
    assert report.indication is indication, (report.summary, [s.message for s in report.signatures])
    assert report.problem is problem
    assert any("\u4e00" <= char <= "\u9fff" for char in report.summary)  # a sentence in Chinese
    if subs is not None:
        assert {signature.sub_indication for signature in report.signatures} <= subs | {None}
        assert report.signatures[0].sub_indication in subs
    if name in MESSAGES:
        assert report.signatures[0].message == MESSAGES[name]
    assert report.document_format == "OFD"


def test_entry_declared_past_its_ratio_is_refused_before_inflating_it() -> None:
    from signing.ofd_package import OfdPackage, UnsafePackage

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", b"<a/>" + b" " * (5 * 1024 * 1024))
    with pytest.raises(UnsafePackage) as raised:
        OfdPackage(buffer.getvalue())
    assert raised.value.too_large
