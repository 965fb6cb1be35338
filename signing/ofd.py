"""Verification of the signatures and seals in an OFD file (GB/T 33190), failing closed.

``verify_ofd(data, context)`` never raises. It opens the package under limits
(``signing.ofd_package``), follows ``OFD.xml`` → ``DocBody/Signatures`` → every
``Signature/@BaseLoc`` (a ``Signature.xml``), and for each signature:

1. every ``Reference`` of ``SignedInfo/References`` is recomputed with the ``CheckMethod``
   (SM3 or SHA-256; MD5/SHA-1 and unknown methods are refused): a file changed or deleted
   after signing fails with its name, a reference that leaves the package is a format
   failure;
2. the ``SignedValue`` is checked over the exact bytes of ``Signature.xml`` — so a reference
   added to (or removed from) the protected set after signing breaks it — as a GB/T 38540
   seal signature or a GB/T 35275 SM2 PKCS#7 signature (``signing.gm_verify``).

``Signatures.xml`` lists the signatures; a signature protects it as it stood when the
signature was made. If it changed since, that is acceptable only when a later signature,
itself valid, protects the current list (someone sealed again); otherwise the list was
edited and the signature fails. Files no signature protects are named in the report.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from signing import event_loop, messages
from signing.gm_verify import Placement, check_gm_signature
from signing.ofd_package import OFD_NAMESPACE, OfdPackage, PackageLimits, UnsafePackage, resolve
from signing.report import (
    FileProblem,
    Indication,
    ModificationLevel,
    ModificationReport,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing.sm2 import SM3_OID, sm3
from signing.verdict import document_report, file_problem_report, unverifiable_signature
from signing.verify import BudgetExceeded, VerificationContext

__all__ = ["verify_ofd"]

logger = logging.getLogger(__name__)
_NS = {"ofd": OFD_NAMESPACE}
_CHECK_METHODS = {
    SM3_OID: sm3,
    "sm3": sm3,
    "2.16.840.1.101.3.4.2.1": lambda data: hashlib.sha256(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
    "sha-256": lambda data: hashlib.sha256(data).digest(),
}
_MAX_SIGNATURES = 50
_MAX_REFERENCES = 5_000


def verify_ofd(data: bytes, context: VerificationContext) -> VerificationReport:
    """Validate every signature in the OFD ``data``; never raises for any input."""
    try:
        if len(data) > context.max_bytes:
            return _ofd(file_problem_report(data, FileProblem.TOO_LARGE))
        return event_loop.run(_verify_package(data, context))
    except RecursionError:
        return _ofd(file_problem_report(data, FileProblem.TOO_DEEP))
    except (BudgetExceeded, MemoryError):
        return _ofd(file_problem_report(data, FileProblem.TOO_COMPLEX))
    except Exception:
        logger.exception("OFD verification failed unexpectedly")
        return _ofd(file_problem_report(data, FileProblem.INTERNAL_ERROR))


def _ofd(report: VerificationReport, unprotected: tuple[str, ...] = ()) -> VerificationReport:
    return dataclasses.replace(report, document_format="OFD", unprotected_files=unprotected)


@dataclass(frozen=True)
class _Entry:
    """One ``Signature`` of ``Signatures.xml``."""

    name: str
    path: str | None
    """Absolute path of its ``Signature.xml`` (``None``: the reference leaves the package)."""


async def _verify_package(data: bytes, context: VerificationContext) -> VerificationReport:
    try:
        package = OfdPackage(
            data, PackageLimits(max_total_bytes=max(context.max_bytes * 12, 64 * 1024 * 1024))
        )
        list_path, entries = _signature_list(package)
    except UnsafePackage as exc:
        logger.info("OFD package refused: %s", exc.reason)
        problem = (
            FileProblem.TOO_COMPLEX
            if exc.too_large
            else FileProblem.NOT_PDF
            if exc.not_zip
            else FileProblem.UNSAFE_PACKAGE
        )
        return _ofd(file_problem_report(data, problem))
    except (KeyError, ValueError):
        return _ofd(file_problem_report(data, FileProblem.MALFORMED))
    if not entries:
        return _ofd(file_problem_report(data, FileProblem.NO_SIGNATURES))
    if len(entries) > _MAX_SIGNATURES:
        return _ofd(file_problem_report(data, FileProblem.TOO_COMPLEX))
    checks = [await _check_entry(package, list_path, entry, context) for entry in entries]
    reports = _judge_signature_list(package, list_path, checks)
    protected = {path for check in checks for path in check.covered}
    machinery = {path for check in checks for path in check.own_files}
    unprotected = tuple(name for name in package.names if name not in protected | machinery)
    report = document_report(data, tuple(reports), {entry.name for entry in entries})
    if report.indication is Indication.TOTAL_PASSED and unprotected:
        report = dataclasses.replace(
            report, summary=messages.SUMMARY_UNPROTECTED.format(count=len(unprotected))
        )
    return _ofd(report, unprotected)


def _signature_list(package: OfdPackage) -> tuple[str | None, list[_Entry]]:
    """The path of ``Signatures.xml`` and its entries, in document order."""
    root = package.xml("/OFD.xml")
    body = root.find("ofd:DocBody", _NS)
    if body is None:
        raise ValueError("OFD.xml has no DocBody")
    location = body.findtext("ofd:Signatures", namespaces=_NS)
    if not location:
        return None, []
    list_path = resolve("/OFD.xml", location)
    if list_path is None or not package.has(list_path):
        raise ValueError("Signatures.xml is missing")
    signatures = package.xml(list_path)
    entries = []
    for index, element in enumerate(signatures.findall("ofd:Signature", _NS)):
        name = element.get("ID") or str(index + 1)
        entries.append(_Entry(name=f"Signature {name}", path=resolve(list_path, element.get("BaseLoc", ""))))
    return list_path, entries


@dataclass
class _Check:
    report: SignatureReport
    covered: dict[str, bool]
    """Every referenced file and whether its digest still matches."""
    own_files: tuple[str, ...]
    """This signature's ``Signature.xml`` and signed value (not protectable by itself)."""


async def _check_entry(
    package: OfdPackage, list_path: str | None, entry: _Entry, context: VerificationContext
) -> _Check:
    failed = Indication.TOTAL_FAILED
    if entry.path is None:
        message = messages.OFD_REFERENCE_OUTSIDE.format(reference="BaseLoc")
        return _Check(_failed(entry.name, failed, SubIndication.FORMAT_FAILURE, message), {}, ())
    try:
        signature = package.xml(entry.path)
        info = signature.find("ofd:SignedInfo", _NS)
        value_location = signature.findtext("ofd:SignedValue", namespaces=_NS) or ""
        value_path = resolve(entry.path, value_location)
        if info is None or value_path is None or not package.has(value_path):
            raise KeyError(entry.path)
        value = package.read(value_path)
    except (KeyError, UnsafePackage):
        sub = SubIndication.SIGNED_DATA_NOT_FOUND
        return _Check(
            _failed(entry.name, Indication.INDETERMINATE, sub, messages.OFD_SIGNATURE_FILE_MISSING), {}, ()
        )
    own = (entry.path, value_path)
    references = info.find("ofd:References", _NS)
    method = (references.get("CheckMethod") if references is not None else None) or "MD5"
    digest = _CHECK_METHODS.get(method.strip().lower() if not method[0].isdigit() else method.strip())
    if digest is None:
        sub = SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        message = messages.OFD_CHECK_METHOD.format(method=method[:40])
        return _Check(_failed(entry.name, Indication.INDETERMINATE, sub, message), {}, own)
    items = references.findall("ofd:Reference", _NS) if references is not None else []
    if not items or len(items) > _MAX_REFERENCES:
        sub = SubIndication.FORMAT_FAILURE
        return _Check(_failed(entry.name, failed, sub, messages.SUB_INDICATIONS[sub]), {}, own)
    covered: dict[str, bool] = {}
    problem: tuple[SubIndication, str] | None = None
    for item in items:
        reference = item.get("FileRef", "")
        path = resolve(entry.path, reference)
        if path is None:
            message = messages.OFD_REFERENCE_OUTSIDE.format(reference=reference[:80])
            return _Check(_failed(entry.name, failed, SubIndication.FORMAT_FAILURE, message), {}, own)
        if path in own:
            sub = SubIndication.FORMAT_FAILURE
            return _Check(_failed(entry.name, failed, sub, messages.SUB_INDICATIONS[sub]), {}, own)
        expected = _base64(item.findtext("ofd:CheckValue", default="", namespaces=_NS))
        if not package.has(path):
            covered[path] = False
            problem = problem or (SubIndication.HASH_FAILURE, messages.OFD_FILE_MISSING.format(path=path))
            continue
        covered[path] = expected is not None and digest(package.read(path)) == expected
        if not covered[path] and path != list_path:
            problem = problem or (SubIndication.HASH_FAILURE, messages.OFD_FILE_CHANGED.format(path=path))
    report = await check_gm_signature(
        value, package.read(entry.path), context.trust, entry.name, _placement(info)
    )
    if problem is not None and report.sub_indication is not SubIndication.HASH_FAILURE:
        report = dataclasses.replace(report, indication=failed, sub_indication=problem[0], message=problem[1])
    return _Check(report, covered, own)


def _judge_signature_list(
    package: OfdPackage, list_path: str | None, checks: list[_Check]
) -> list[SignatureReport]:
    """Apply the rule on ``Signatures.xml`` changes, and say what happened after each."""
    reports = []
    for index, check in enumerate(checks):
        report = check.report
        later = checks[index + 1 :]
        changed_list = list_path is not None and check.covered.get(list_path) is False
        vouched = any(
            other.covered.get(list_path or "") is True and other.report.indication is Indication.TOTAL_PASSED
            for other in later
        )
        if changed_list and not vouched:
            report = dataclasses.replace(
                report,
                indication=Indication.TOTAL_FAILED,
                sub_indication=SubIndication.HASH_FAILURE,
                message=messages.OFD_SIGNATURE_LIST_CHANGED,
            )
        elif report.indication is Indication.TOTAL_PASSED:
            level = ModificationLevel.FORM_FILLING if later else ModificationLevel.NONE
            description = (
                messages.OFD_LATER_SIGNATURES
                if later
                else messages.describe_modifications(ModificationLevel.NONE, True, True)
            )
            report = dataclasses.replace(
                report,
                modifications=ModificationReport(
                    level=level,
                    allowed=True,
                    later_revisions=len(later),
                    changed_form_fields=tuple(other.report.field_name for other in later),
                    detail=None,
                    description=description,
                ),
            )
        reports.append(report)
    return reports


def _placement(info: ET.Element) -> Placement | None:
    stamp = info.find("ofd:StampAnnot", _NS)
    if stamp is None:
        return None
    page: int | None
    try:
        page = int(stamp.get("PageRef", ""))
    except ValueError:
        page = None
    try:
        numbers = tuple(float(part) for part in stamp.get("Boundary", "").split())
        box = numbers if len(numbers) == 4 else None
    except ValueError:
        box = None
    return Placement(page=page, box=box)  # type: ignore[arg-type]


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _failed(name: str, indication: Indication, sub: SubIndication, message: str) -> SignatureReport:
    return dataclasses.replace(unverifiable_signature(name, sub, message), indication=indication)
