"""The judgment: from pyhanko's findings to ETSI indications and the report's summary.

``judge_signature`` applies the checks in a fixed order, and a signature passes only if it
clears all of them — never on ``intact``/``valid`` alone:

1. coverage: a byte range that leaves out more than the signature itself → ``TOTAL_FAILED``
   ``FORMAT_FAILURE`` (signature wrapping);
2. integrity and signature value → ``HASH_FAILURE`` / ``SIG_CRYPTO_FAILURE``;
3. the modification analysis of everything appended later: not run → ``INDETERMINATE``;
   beyond what the signatures permit → ``TOTAL_FAILED`` ``DISALLOWED_MODIFICATION``;
4. the certificate chain and revocation: pyhanko's AdES sub-indication; a revocation *before*
   a valid signature timestamp is final (``TOTAL_FAILED`` ``REVOKED``), otherwise the signature
   is ``INDETERMINATE`` (``REVOKED_NO_POE``): this verifier does no past-signature validation;
5. a present but invalid signature timestamp, a level below the required one, violated seed
   values → ``INDETERMINATE`` ``SIG_CONSTRAINTS_FAILURE``;
6. finally pyhanko's own ``bottom_line`` must agree, or the answer is ``INDETERMINATE``.

The document takes the worst indication of its signatures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.validation.status import PdfSignatureStatus

from signing import messages
from signing.report import (
    Coverage,
    FileProblem,
    Indication,
    ModificationReport,
    SignatureKind,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    VerificationReport,
    benign_since,
)
from signing.sign import PadesLevel

__all__ = ["Verdict", "document_report", "file_problem_report", "judge_signature", "unverifiable_signature"]

Verdict = tuple[Indication, SubIndication | None, str]


def judge_signature(
    status: PdfSignatureStatus,
    coverage: Coverage,
    modifications: ModificationReport,
    timestamp: TimestampInfo | None,
    level: PadesLevel | None,
    kind: SignatureKind,
    required_level: PadesLevel | None,
) -> Verdict:
    """Indication, sub-indication and message of one validated signature."""
    failed, indeterminate = Indication.TOTAL_FAILED, Indication.INDETERMINATE
    if coverage is Coverage.PARTIAL:
        return failed, SubIndication.FORMAT_FAILURE, messages.PARTIAL_COVERAGE
    if not status.intact:
        return failed, SubIndication.HASH_FAILURE, messages.SUB_INDICATIONS[SubIndication.HASH_FAILURE]
    if not status.valid:
        sub_indication = SubIndication.SIG_CRYPTO_FAILURE
        return failed, sub_indication, messages.SUB_INDICATIONS[sub_indication]
    if modifications.level is None:
        return indeterminate, SubIndication.GENERIC, modifications.description
    if not modifications.allowed:
        return failed, SubIndication.DISALLOWED_MODIFICATION, modifications.description
    if status.trust_problem_indic is not None or status.validation_path is None:
        return _trust_failure(status, timestamp)
    constraints = SubIndication.SIG_CONSTRAINTS_FAILURE
    if status.timestamp_validity is not None and (timestamp is None or not timestamp.valid):
        return indeterminate, constraints, messages.TIMESTAMP_INVALID
    if required_level is not None and (level is None or level.rank < required_level.rank):
        reached = level.value if level else messages.NOT_PADES
        return (
            indeterminate,
            constraints,
            messages.LEVEL_REQUIRED.format(required=required_level.value, reached=reached),
        )
    if not status.seed_value_ok:
        return indeterminate, constraints, messages.SEED_VALUE_VIOLATED
    if not status.bottom_line:
        return indeterminate, SubIndication.GENERIC, messages.GENERIC
    return Indication.TOTAL_PASSED, None, messages.VALID[kind]


def _trust_failure(status: PdfSignatureStatus, timestamp: TimestampInfo | None) -> Verdict:
    problem = status.trust_problem_indic
    revocation = status.revocation_details
    if (
        revocation is not None
        and not revocation.ca_revoked
        and timestamp is not None
        and timestamp.valid
        and revocation.revocation_date <= timestamp.time
    ):
        # Proven signing time after the revocation: the signature can never become valid.
        return Indication.TOTAL_FAILED, SubIndication.REVOKED, messages.SUB_INDICATIONS[SubIndication.REVOKED]
    name = problem.standard_name if problem is not None else SubIndication.NO_CERTIFICATE_CHAIN_FOUND.value
    sub_indication = SubIndication(name) if name in SubIndication.__members__ else SubIndication.GENERIC
    message = messages.SUB_INDICATIONS.get(sub_indication, messages.GENERIC)
    failed = problem is not None and problem.status is AdESStatus.FAILED
    return (Indication.TOTAL_FAILED if failed else Indication.INDETERMINATE), sub_indication, message


def unverifiable_signature(
    field_name: str, sub_indication: SubIndication, message: str, **known: object
) -> SignatureReport:
    """Report on a signature that could not be validated at all (``INDETERMINATE``)."""
    empty = SignatureReport(
        field_name=field_name,
        indication=Indication.INDETERMINATE,
        sub_indication=sub_indication,
        message=message,
        kind=None,
        signer_name=None,
        organisation=None,
        organisation_id=None,
        claimed_signing_time=None,
        timestamp=None,
        archive_timestamp=None,
        certificate_chain=(),
        digest_algorithm=None,
        signature_algorithm=None,
        pades_level=None,
        coverage=None,
        modifications=None,
        certifying=False,
    )
    return dataclasses.replace(empty, **known)  # type: ignore[arg-type]


def document_report(data: bytes, reports: tuple[SignatureReport, ...], names: set[str]) -> VerificationReport:
    """The document's verdict: the worst of its signatures, with the summary sentence."""
    worst = max(reports, key=lambda report: report.indication.severity)
    if worst.indication is Indication.TOTAL_PASSED:
        changes = sorted(
            {r.modifications.description for r in reports if r.modifications and not benign_since(r, names)}
        )
        summary = (
            messages.SUMMARY_VALID_WITH_CHANGES.format(changes="；".join(changes))
            if changes
            else messages.SUMMARY_VALID
        )
    elif worst.indication is Indication.TOTAL_FAILED:
        tampered = {
            SubIndication.HASH_FAILURE,
            SubIndication.DISALLOWED_MODIFICATION,
            SubIndication.FORMAT_FAILURE,
        }
        if any(report.sub_indication in tampered for report in reports):
            summary = messages.SUMMARY_MODIFIED
        else:
            summary = messages.SUMMARY_INVALID.format(reason=worst.message)
    else:
        summary = messages.SUMMARY_CANNOT_VERIFY.format(reason=worst.message)
    return VerificationReport(
        indication=worst.indication,
        sub_indication=worst.sub_indication,
        summary=summary,
        problem=None,
        signatures=reports,
        document_sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        validated_at=dt.datetime.now(dt.UTC),
    )


def file_problem_report(data: bytes, problem: FileProblem) -> VerificationReport:
    """The report on a file that could not be verified as a whole."""
    return VerificationReport(
        indication=Indication.INDETERMINATE,
        sub_indication=None,
        summary=messages.FILE_PROBLEM_SUMMARIES[problem],
        problem=problem,
        signatures=(),
        document_sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        validated_at=dt.datetime.now(dt.UTC),
    )
