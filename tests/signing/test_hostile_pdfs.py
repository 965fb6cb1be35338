"""The hostile corpus, built here on every run, verified through the worker-process runner.

SECURITY.md "Uploads and PDFs" (ASVS v5.0.0-5.1.1, 5.2.x, 15.2.2, 16.5.3): incremental saving
attacks, shadow attacks (hide / replace / hide-and-replace), evil annotations, signature
wrapping, untrusted/revoked/expired signers, stripped or broken timestamps, encryption,
truncation, non-PDFs, decompression bombs, deep nesting and algorithms the stack cannot check.
Every file gets the expected verdict — never TOTAL_PASSED when modified or forged — a Chinese
summary, no exception, and a verdict within the time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from asn1crypto import algos, cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.form_tools import populate_static_text_field
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle

from signing import (
    DevPki,
    DevTimestampClient,
    FileProblem,
    Indication,
    KeySigner,
    ModificationLevel,
    PadesLevel,
    SignatureSettings,
    SubIndication,
    VerificationContext,
    VerificationReport,
    VerificationRunner,
    async_sign_pdf,
    sign_pdf,
    verify_pdf,
)
from tests.signing import hostile
from tests.signing.sample_pdfs import make_pdf, page_content

MODIFIED = "签署后内容被修改，签章无效"
B_T = SignatureSettings(level=PadesLevel.B_T)


@dataclass(frozen=True)
class Expected:
    indication: Indication
    sub_indications: frozenset[SubIndication | None] = frozenset({None})
    problems: frozenset[FileProblem | None] = frozenset({None})
    summary: str | None = None


def failed(*subs: SubIndication, summary: str | None = MODIFIED) -> Expected:
    return Expected(Indication.TOTAL_FAILED, frozenset(subs), summary=summary)


def indeterminate(
    *subs: SubIndication | None, problems: tuple[FileProblem | None, ...] = (None,)
) -> Expected:
    return Expected(Indication.INDETERMINATE, frozenset(subs or {None}), frozenset(problems))


def _add_page(writer: IncrementalPdfFileWriter) -> None:
    content = writer.add_object(generic.StreamObject(stream_data=page_content(2, ("附加条款：罚款加倍",))))
    resources = writer.root["/Pages"]["/Kids"][0].get_object()["/Resources"]
    writer.insert_page(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                pdf_name("/Contents"): content,
                pdf_name("/Resources"): resources,
            }
        )
    )


def _repoint_contents(number: int | None) -> Callable[[IncrementalPdfFileWriter], None]:
    def change(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        if number is None:
            data = page_content(1, ("处罚决定：不予处罚。",))
            page[pdf_name("/Contents")] = writer.add_object(generic.StreamObject(stream_data=data))
        else:
            page[pdf_name("/Contents")] = generic.IndirectObject(number, 0, writer)
        writer.update_container(page)

    return change


def _add_annotation(writer: IncrementalPdfFileWriter) -> None:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    annotation = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/FreeText"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (60, 640, 560, 740)]
                ),
                pdf_name("/Contents"): generic.TextStringObject("罚款金额：0元"),
                pdf_name("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
            }
        )
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annotation)
    page[pdf_name("/Annots")] = annots
    writer.update_container(page)


def _strip_timestamp(content: cms.ContentInfo) -> cms.ContentInfo:
    content["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes([])
    return content


def _break_timestamp(content: cms.ContentInfo) -> cms.ContentInfo:
    token = content["content"]["signer_infos"][0]["unsigned_attrs"][0]["values"][0]
    signature = token["content"]["signer_infos"][0]["signature"]
    token["content"]["signer_infos"][0]["signature"] = (
        bytes([signature.native[0] ^ 0xFF]) + signature.native[1:]
    )
    return content


def _break_signature(content: cms.ContentInfo) -> cms.ContentInfo:
    info = content["content"]["signer_infos"][0]
    info["signature"] = bytes(len(info["signature"].native))
    return content


def _as_sm2(content: cms.ContentInfo) -> cms.ContentInfo:
    info = content["content"]["signer_infos"][0]
    info["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "1.2.156.10197.1.401"})
    info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "1.2.156.10197.1.501"})
    return content


@pytest.fixture(scope="session")
def corpus(pki: DevPki, agency_rsa: KeySigner, tsa: DevTimestampClient) -> dict[str, tuple[bytes, Expected]]:
    document = make_pdf(3)
    signed = sign_pdf(document, agency_rsa, B_T, timestamps=tsa)
    certified = sign_pdf(
        document, agency_rsa, SignatureSettings(level=PadesLevel.B_T, certify=True), timestamps=tsa
    )
    spare = hostile.append_update(
        document, {40: hostile.stream("", page_content(1, ("处罚决定：不予处罚。",)))}
    )
    revoked_seal = pki.agency_seal("已吊销证书的测试机构", "11350104MB0000004A")
    revoked_signer = KeySigner.from_credential(revoked_seal)
    signed_before_revocation = sign_pdf(document, revoked_signer, SignatureSettings())
    pki.revoke(revoked_seal.certificate)
    replaced = hostile.stream("", page_content(1, ("处罚决定：罚款人民币贰拾万元整。",)))
    cases: dict[str, tuple[bytes, Expected]] = {
        "content changed by incremental update": (
            hostile.append_update(signed, {hostile.FIRST_CONTENT: replaced}),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "page added after signing": (
            hostile.edit(signed, _add_page),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "shadow hide: overlay object filled after signing": (
            hostile.append_update(signed, {hostile.OVERLAY: hostile.overlay_text("罚款金额：0元")}),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "shadow replace: page points at new content": (
            hostile.edit(signed, _repoint_contents(None)),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "shadow hide-and-replace: page points at content hidden before signing": (
            hostile.edit(sign_pdf(spare, agency_rsa, B_T, timestamps=tsa), _repoint_contents(40)),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "evil annotation on a certified document": (
            hostile.edit(certified, _add_annotation),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "evil annotation after an approval signature": (
            hostile.edit(signed, _add_annotation),
            failed(SubIndication.DISALLOWED_MODIFICATION),
        ),
        "byte range shortened": (
            hostile.tamper_byte_range(signed, -100, 0),
            failed(SubIndication.HASH_FAILURE, SubIndication.FORMAT_FAILURE),
        ),
        "byte range pointing elsewhere": (
            hostile.tamper_byte_range(signed, 0, 120),
            failed(SubIndication.HASH_FAILURE, SubIndication.FORMAT_FAILURE),
        ),
        "signature value forged": (
            hostile.rewrite_cms(signed, _break_signature),
            failed(SubIndication.SIG_CRYPTO_FAILURE, summary=None),
        ),
        "untrusted root": (
            sign_pdf(document, KeySigner.from_credential(pki.untrusted_seal()), B_T, timestamps=tsa),
            indeterminate(SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
        ),
        "revoked before a timestamped signature": (
            sign_pdf(document, revoked_signer, B_T, timestamps=tsa),
            failed(SubIndication.REVOKED, summary="签章无效：签名证书在签署前已被吊销"),
        ),
        "revoked after signing, no proof of time": (
            signed_before_revocation,
            indeterminate(SubIndication.REVOKED_NO_POE),
        ),
        "expired certificate": (
            sign_pdf(document, KeySigner.from_credential(pki.expired_seal()), SignatureSettings()),
            indeterminate(SubIndication.OUT_OF_BOUNDS_NO_POE),
        ),
        "broken timestamp token": (
            hostile.rewrite_cms(signed, _break_timestamp),
            indeterminate(SubIndication.SIG_CONSTRAINTS_FAILURE),
        ),
        "SM2 signature": (
            hostile.rewrite_cms(signed, _as_sm2),
            indeterminate(SubIndication.CRYPTO_CONSTRAINTS_FAILURE),
        ),
        "encrypted": (hostile.encrypted(signed), indeterminate(problems=(FileProblem.ENCRYPTED,))),
        "truncated": (
            signed[: len(signed) * 2 // 3],
            indeterminate(None, SubIndication.FORMAT_FAILURE, problems=(FileProblem.MALFORMED, None)),
        ),
        "not a PDF, named .pdf": (
            b"PK\x03\x04" + bytes(2000),
            indeterminate(problems=(FileProblem.NOT_PDF,)),
        ),
        "no signature at all": (document, indeterminate(problems=(FileProblem.NO_SIGNATURES,))),
        "decompression bomb": (
            hostile.decompression_bomb(signed),
            indeterminate(problems=(FileProblem.TOO_COMPLEX,)),
        ),
        "deeply nested objects": (
            hostile.deeply_nested(signed),
            indeterminate(problems=(FileProblem.TOO_DEEP,)),
        ),
    }
    return cases


CASES = [
    "content changed by incremental update",
    "page added after signing",
    "shadow hide: overlay object filled after signing",
    "shadow replace: page points at new content",
    "shadow hide-and-replace: page points at content hidden before signing",
    "evil annotation on a certified document",
    "evil annotation after an approval signature",
    "byte range shortened",
    "byte range pointing elsewhere",
    "signature value forged",
    "untrusted root",
    "revoked before a timestamped signature",
    "revoked after signing, no proof of time",
    "expired certificate",
    "broken timestamp token",
    "SM2 signature",
    "encrypted",
    "truncated",
    "not a PDF, named .pdf",
    "no signature at all",
    "decompression bomb",
    "deeply nested objects",
]


def _assert_plain_chinese(report: VerificationReport) -> None:
    assert report.summary and all(not ("a" <= ch <= "z") for ch in report.summary.replace("PDF", ""))


@pytest.mark.parametrize("case", CASES)
async def test_hostile_file_gets_the_right_verdict(
    case: str, corpus: dict[str, tuple[bytes, Expected]], runner: VerificationRunner
) -> None:
    data, expected = corpus[case]
    started = time.monotonic()
    report = await runner.verify(data)
    assert time.monotonic() - started < runner.time_budget
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.indication is expected.indication, (report.summary, report.signatures)
    assert report.sub_indication in expected.sub_indications, report.summary
    assert report.problem in expected.problems
    if expected.summary is not None:
        assert report.summary == expected.summary
    _assert_plain_chinese(report)
    assert report.to_json_dict()["indication"] == expected.indication.value


def test_stripped_timestamp_is_only_b_b_and_fails_a_b_t_requirement(
    corpus: dict[str, tuple[bytes, Expected]],
    agency_rsa: KeySigner,
    tsa: DevTimestampClient,
    context: VerificationContext,
) -> None:
    signed = sign_pdf(make_pdf(1), agency_rsa, B_T, timestamps=tsa)
    stripped = hostile.rewrite_cms(signed, _strip_timestamp)
    (signature,) = verify_pdf(stripped, context).signatures
    assert signature.pades_level is PadesLevel.B_B and signature.timestamp is None
    strict = VerificationContext(trust=context.trust, required_level=PadesLevel.B_T)
    report = verify_pdf(stripped, strict)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert report.summary == "无法验证：要求B-T级别的签名，实际为B-B"
    assert verify_pdf(signed, strict).passed


async def test_form_filling_after_an_approval_signature_is_an_allowed_change(
    agency_rsa: KeySigner, tsa: DevTimestampClient, runner: VerificationRunner
) -> None:
    signed = await async_sign_pdf(make_pdf(1, form_field=True), agency_rsa, B_T, timestamps=tsa)
    filled = hostile.edit(
        signed, lambda writer: populate_static_text_field(writer, "remark", TextBoxStyle(), "ok")
    )
    report = await runner.verify(filled)
    assert report.indication is Indication.TOTAL_PASSED
    (signature,) = report.signatures
    assert signature.modifications is not None
    assert signature.modifications.level is ModificationLevel.FORM_FILLING and signature.modifications.allowed
    assert signature.modifications.changed_form_fields == ("remark",)
    assert report.changed_after_signing and report.to_json_dict()["changed_after_signing"]
    assert not (await runner.verify(signed)).changed_after_signing
    assert (
        report.summary
        == "此文件的签章有效；签署后有允许范围内的修改（签署后有允许的修改：填写了表单），请查看明细"
    )


async def test_over_budget_file_is_too_complex_and_the_pool_recovers(
    context: VerificationContext, agency_rsa: KeySigner
) -> None:
    signed = await async_sign_pdf(make_pdf(100), agency_rsa, SignatureSettings())
    async with VerificationRunner(context, workers=1, time_budget=0.001) as hurried:
        report = await hurried.verify(signed)
        assert report.problem is FileProblem.TOO_COMPLEX
        assert report.summary == "文件过于复杂，无法在限定时间内验证"
        (worker,) = hurried._idle  # the worker stopped its job itself and answered
        hurried.time_budget = 20.0
        assert (await hurried.verify(signed)).passed
        assert hurried._idle == [worker] and worker.jobs == 2  # the same worker, its loop fine


async def test_memory_limit_applies_and_a_killed_worker_is_replaced(
    context: VerificationContext, agency_rsa: KeySigner
) -> None:
    # a page of about 2 MB: more than the starved worker can take in besides its own code
    large = make_pdf(1, lines=("罚款人民币贰仟元整" * 100,) * 1000)
    signed = await async_sign_pdf(large, agency_rsa, SignatureSettings())
    async with VerificationRunner(context, workers=1, memory_limit=64 * 1024 * 1024) as starved:
        assert (await starved.verify(signed)).problem is FileProblem.TOO_COMPLEX
    async with VerificationRunner(context, workers=1) as runner:
        assert (await runner.verify(signed)).passed
        for worker in runner._idle:  # white-box: simulate a crash
            worker.process.kill()
        assert (await runner.verify(signed)).passed
