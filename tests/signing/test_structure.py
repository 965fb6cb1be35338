"""``signing.structure``: absurd PDFs are refused from their outline, in milliseconds, before
pyHanko parses them (SECURITY.md "Uploads and PDFs"), and real documents pass.

The two shapes measured against pyHanko: a last line megabytes long (it reads the trailer
backwards a byte at a time, about a second per megabyte) and thousands of tiny revisions (it
follows every one: 98,000 cost half a minute).
"""

from __future__ import annotations

import time

from signing import FileProblem, KeySigner, SignatureSettings, VerificationContext, sign_pdf, verify_pdf
from signing.structure import MAX_REVISIONS, attachment_problem, structural_problem
from tests.signing.hostile import long_last_line, long_line_after_eof, many_revisions
from tests.signing.sample_pdfs import make_pdf

LIMIT = 20 * 1024 * 1024


def timed(function: object, *args: object) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)  # type: ignore[operator]
    return result, time.perf_counter() - start


def test_a_long_last_line_is_refused_without_parsing(context: VerificationContext) -> None:
    for hostile in (long_last_line(make_pdf(1), 15_000_000), long_line_after_eof(make_pdf(1), 15_000_000)):
        problem, seconds = timed(structural_problem, hostile, LIMIT)
        assert problem in (FileProblem.ABNORMAL_STRUCTURE, FileProblem.MALFORMED)
        assert seconds < 0.5  # pyHanko spends some 15 s on it
        report, seconds = timed(verify_pdf, hostile, context)
        assert report.problem is problem and seconds < 1.0  # type: ignore[attr-defined]
        assert "无法验证" in report.summary  # type: ignore[attr-defined]


def test_thousands_of_revisions_are_refused_without_parsing(context: VerificationContext) -> None:
    hostile = many_revisions(make_pdf(1), 20_000)
    problem, seconds = timed(structural_problem, hostile, LIMIT)
    assert problem is FileProblem.ABNORMAL_STRUCTURE and seconds < 0.5
    assert attachment_problem(hostile, LIMIT) is FileProblem.ABNORMAL_STRUCTURE
    summary = verify_pdf(hostile, context).summary
    assert summary == "无法验证：文件结构异常（文件末尾格式不规范或修订次数过多），未予处理"


def test_real_documents_pass_the_outline_checks(agency_rsa: KeySigner, context: VerificationContext) -> None:
    sealed = sign_pdf(make_pdf(2), agency_rsa, SignatureSettings())
    twice = sign_pdf(sealed, agency_rsa, SignatureSettings(field_name="Seal2"))
    for document in (make_pdf(1), sealed, twice, many_revisions(make_pdf(1), MAX_REVISIONS - 10)):
        assert structural_problem(document, LIMIT) is None
    assert attachment_problem(many_revisions(make_pdf(1), 50), LIMIT) is None
    assert verify_pdf(twice, context).passed


def test_a_truncated_or_headerless_file_is_named_as_such() -> None:
    document = make_pdf(1)
    assert structural_problem(document[:-200], LIMIT) is FileProblem.MALFORMED
    assert structural_problem(b"hello" * 400, LIMIT) is FileProblem.NOT_PDF
    assert structural_problem(document + b"x" * LIMIT, LIMIT) is FileProblem.TOO_LARGE
    assert structural_problem(b"PK\x03\x04 an OFD package", LIMIT) is None  # signing.ofd's to judge
