"""Validation of the signatures and seals in a PDF, failing closed.

``verify_pdf(data, context)`` never raises and never says "valid" by default. In order:
the size limit and the cheap checks of the file's outline (``signing.structure``), a strict
parse with pyhanko's decode limits (streams that inflate beyond bounds are refused),
encryption (refused), object and page counts; then every filled signature field is
validated with pyhanko (integrity, signature, chain of trust with revocation, timestamp)
together with its coverage and the modification analysis of everything appended after it,
and judged by ``signing.verdict``; a national-standard value (a GB/T 38540 seal or
GB/T 35275 PKCS#7 in ``/Contents``) by ``signing.gm_pdf``. Any exception — a malformed
file, ``RecursionError`` from deep nesting, ``MemoryError`` — turns into ``INDETERMINATE`` with a
Chinese message; ``BudgetExceeded`` (raised by ``signing.runner``'s timer) likewise.

Validation data embedded in the document security store (B-LT) is fed to the validator;
what is missing is fetched as ``TrustSettings`` allows. A successful path validation (with its
revocation checks) of a signer's or TSA's certificate is remembered in
``signing.verification_cache.CHAINS`` until the revocation data it rests on is due, the
certificate ends or an hour has passed, so the second document sealed with an agency's
certificate skips it; every check of the document itself runs each time. It is CPU bound: run it through
``signing.runner.VerificationRunner`` in a server, never on the event loop.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field

from asn1crypto import cms, x509
from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfStrictReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import SignedDataCerts
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
    generic_cms,
)
from pyhanko_certvalidator import PKIXValidationParams, ValidationContext, find_valid_path
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.util import CancelableAsyncIterator

from signing import event_loop, inspection, messages, pdf_arrays, pdf_hex, x509_names
from signing.gm_pdf import NationalPdfSignature, check_national_signature, national_value
from signing.inspection import EmbeddedValidationData
from signing.report import (
    CertificateInfo,
    FileProblem,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    VerificationReport,
)
from signing.sign import PadesLevel
from signing.structure import DECODE_LIMITS, structural_problem
from signing.trust import TrustSettings
from signing.verdict import document_report, file_problem_report, judge_signature, unverifiable_signature
from signing.verification_cache import CHAINS, revocation_expiry

pdf_hex.install()  # /Contents read at bytes speed, not a byte at a time
pdf_arrays.install()  # /Kids, /ByteRange and the like read by regular expression
x509_names.install()  # each name's RFC 4518 preparation once per process, not per document

__all__ = ["BudgetExceeded", "VerificationContext", "verify_pdf"]

logger = logging.getLogger(__name__)
MiB = 1024 * 1024
_SUBFILTERS = {inspection.PADES_SUBFILTER, "/adbe.pkcs7.detached"}
Unreadable = tuple[str, Exception]


@dataclass(frozen=True)
class _RememberedPath:
    """A path validated with its revocation checks, and the chain as the report describes it
    (each certificate's revocation status): kept instead of the CRLs, which can be large."""

    path: ValidationPath
    chain: tuple[CertificateInfo, ...]


@dataclass
class _Document:
    """What a document's path validations depend on besides each certificate and those
    offered for path building: the trust settings and the revocation data the document
    embeds (a newer CRL in it must be read, not a remembered answer). Collects the chains of
    the validations taken from memory (by the certificate's SHA-256), for the report, and
    the certificates extracted from each of its CMS values (``_extracted_once``)."""

    trust: TrustSettings
    embedded_revocation: bytes
    remembered: dict[bytes, tuple[CertificateInfo, ...]] = field(default_factory=dict)
    extracted: dict[int, tuple[cms.SignedData, SignedDataCerts]] = field(default_factory=dict)


_DOCUMENT: ContextVar[_Document | None] = ContextVar("pades_document", default=None)


async def _remembered_valid_path(
    certificate: x509.Certificate,
    paths: CancelableAsyncIterator[ValidationPath],
    validation_context: ValidationContext,
    pkix_validation_params: PKIXValidationParams | None = None,
) -> ValidationPath:
    """pyhanko's path validation of a CMS signer (the PDF signer, the TSA), answered from
    ``CHAINS`` while verifying a document. pyhanko offers no other place to put it: this
    replaces the name its CMS validation calls; outside ``verify_pdf`` (signing at B-LT) it
    passes straight through. Key usage is still checked by pyhanko after it, every time."""
    document = _DOCUMENT.get()
    if document is None or pkix_validation_params is not None:
        return await find_valid_path(certificate, paths, validation_context, pkix_validation_params)
    subject = hashlib.sha256(certificate.dump()).digest()
    key = _path_key(document, subject, validation_context)
    remembered = CHAINS.get(key)
    if isinstance(remembered, _RememberedPath):
        await paths.cancel()
        document.remembered[subject] = remembered.chain
        return remembered.path
    path: ValidationPath = await find_valid_path(certificate, paths, validation_context)
    # soft-fail mode passes a path whose revocation data could not be had: never remembered
    if not validation_context.soft_fail_exceptions:
        crls, ocsps = validation_context.crls, validation_context.ocsps
        chain = inspection.certificate_chain(certificate, path, crls, ocsps)
        CHAINS.put(key, _RememberedPath(path, chain), revocation_expiry(path, crls, ocsps))
    return path


def _path_key(document: _Document, subject: bytes, context: ValidationContext) -> Hashable:
    """What a path validation's answer depends on besides the time (as for national seals)."""
    offered = tuple(sorted(hashlib.sha256(cert.dump()).digest() for cert in context.certificate_registry))
    return (document.trust, "pades", subject, offered, document.embedded_revocation)


generic_cms.find_valid_path = _remembered_valid_path
_pyhanko_extract_certs = generic_cms.extract_certs_for_validation


def _extracted_once(signed_data: cms.SignedData) -> SignedDataCerts:
    """pyhanko's extraction of a CMS value's certificates (which is the signer's, checked
    against the ESS signing-certificate attribute), once per value while verifying a
    document. pyhanko runs it twice per signature — for ``EmbeddedPdfSignature.signer_cert``
    and again in its CMS validation — on the same object, copying and parsing every
    certificate each time (about 8% of verifying a sealed PDF). The value is kept with the
    answer, so the identity it is found by cannot be reused; a failure is not kept."""
    document = _DOCUMENT.get()
    if document is None:
        return _pyhanko_extract_certs(signed_data)
    known = document.extracted.get(id(signed_data))
    if known is not None and known[0] is signed_data:
        return known[1]
    extracted = _pyhanko_extract_certs(signed_data)
    document.extracted[id(signed_data)] = (signed_data, extracted)
    return extracted


generic_cms.extract_certs_for_validation = _extracted_once


class BudgetExceeded(BaseException):
    """The verification's time budget ran out. A ``BaseException`` so that no library's
    ``except Exception`` can swallow it; ``verify_pdf`` turns it into a report."""


# Exhausted resources are a verdict on the whole file, never on one signature.
_RESOURCE_ERRORS = (RecursionError, MemoryError, BudgetExceeded)


@dataclass(frozen=True)
class VerificationContext:
    """What to trust and how much input to accept (picklable: it crosses into the worker)."""

    trust: TrustSettings
    max_bytes: int = 20 * MiB
    max_pages: int = 5_000
    max_objects: int = 500_000
    required_level: PadesLevel | None = None
    """Refuse (``INDETERMINATE``/``SIG_CONSTRAINTS_FAILURE``) signatures below this level,
    e.g. ``B_T`` where a trusted signing time is part of the evidence."""


def verify_pdf(data: bytes, context: VerificationContext, *,
               outline_checked: bool = False) -> VerificationReport:
    """Validate every signature in ``data``; never raises for any input.

    ``outline_checked``: the caller has just run ``structural_problem(data,
    context.max_bytes)`` on these very bytes and it found nothing (``signing.runner`` does so
    before a file may wait for a worker), so it is not run again: it reads the whole file."""
    try:
        problem = None if outline_checked else structural_problem(data, context.max_bytes)
        if problem is not None:
            return file_problem_report(data, problem)
        return event_loop.run(_verify_document(data, context))
    except RecursionError:
        return file_problem_report(data, FileProblem.TOO_DEEP)
    except (BudgetExceeded, MemoryError):
        return file_problem_report(data, FileProblem.TOO_COMPLEX)
    except Exception:
        logger.exception("verification failed unexpectedly")
        return file_problem_report(data, FileProblem.INTERNAL_ERROR)


async def _verify_document(data: bytes, context: VerificationContext) -> VerificationReport:
    try:
        reader = _open(data)
        if "/Encrypt" in reader.trailer:
            return file_problem_report(data, FileProblem.ENCRYPTED)
        objects = int(reader.trailer["/Size"])
        pages = int(reader.root["/Pages"]["/Count"])
        fields = list(enumerate_sig_fields(reader, filled_status=True))
        total_revisions = reader.xrefs.total_revisions
        embedded_data = EmbeddedValidationData.read(reader)
    except _RESOURCE_ERRORS:
        raise
    except PdfDecodeLimitError:
        return file_problem_report(data, FileProblem.TOO_COMPLEX)
    except Exception:
        return file_problem_report(data, FileProblem.MALFORMED)
    if objects > context.max_objects or pages > context.max_pages:
        return file_problem_report(data, FileProblem.TOO_COMPLEX)
    revocation = hashlib.sha256()
    for value in [*embedded_data.crls, *embedded_data.ocsps]:
        revocation.update(hashlib.sha256(value.dump()).digest())
    # event_loop.run gave this coroutine its own context: the value ends with the document
    document = _Document(context.trust, revocation.digest())
    _DOCUMENT.set(document)
    embedded: list[EmbeddedPdfSignature | Unreadable] = []
    for pdf_name, sig_object, sig_field in fields:
        # A plain str: pyhanko's TextStringObject drags PDF state into every pickle (the report
        # crosses from the worker process) and into dataclasses.asdict's deep copy.
        name = str(pdf_name)
        try:
            national = national_value(sig_object)
            embedded.append(
                NationalPdfSignature(reader, sig_field, name, national)
                if national is not None
                else EmbeddedPdfSignature(reader, sig_field, name)
            )
        except _RESOURCE_ERRORS:
            raise
        except Exception as exc:
            embedded.append((name, exc))
    signatures = [
        item for item in embedded if isinstance(item, tuple) or item.sig_object_type != "/DocTimeStamp"
    ]
    if not signatures:
        return file_problem_report(data, FileProblem.NO_SIGNATURES)
    archive = await _document_timestamps(embedded, context, embedded_data)
    names = {item[0] if isinstance(item, tuple) else item.field_name for item in embedded}
    reports = []
    for item in signatures:
        if isinstance(item, tuple):
            format_failure = SubIndication.FORMAT_FAILURE
            reports.append(unverifiable_signature(item[0], format_failure, messages.UNREADABLE_SIGNATURE))
            continue
        try:
            if isinstance(item, NationalPdfSignature):
                reports.append(await check_national_signature(item, context.trust, names, total_revisions))
                continue
            check = _check_signature(item, context, document, embedded_data, archive, names, total_revisions)
            reports.append(await check)
        except _RESOURCE_ERRORS:
            raise
        except Exception:
            logger.warning("signature %s could not be validated", item.field_name, exc_info=True)
            reports.append(
                unverifiable_signature(item.field_name, SubIndication.GENERIC, messages.SIGNATURE_ERROR)
            )
    return document_report(data, tuple(reports), names)


def _open(data: bytes) -> PdfFileReader:
    """Parse strictly; tolerate the quirks other producers leave (e.g. Pillow's xref
    generations) but never a hybrid-reference file, whose two views of the document are a
    known vehicle for showing one thing and having signed another."""
    try:
        return PdfFileReader(io.BytesIO(data), strict=True, decode_limits=DECODE_LIMITS)
    except PdfStrictReadError:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DECODE_LIMITS)
        if reader.xrefs.hybrid_xrefs_present:
            raise
        return reader


async def _document_timestamps(
    embedded: list[EmbeddedPdfSignature | Unreadable],
    context: VerificationContext,
    embedded_data: EmbeddedValidationData,
) -> list[tuple[int, TimestampInfo]]:
    """``(signed revision, info)`` of every document timestamp (the B-LTA evidence)."""
    found = []
    for item in embedded:
        if isinstance(item, tuple) or item.sig_object_type != "/DocTimeStamp":
            continue
        validation_context = context.trust.validation_context(
            other_certs=embedded_data.certs, crls=embedded_data.crls, ocsps=embedded_data.ocsps
        )
        try:
            status = await async_validate_pdf_timestamp(item, validation_context, skip_diff=True)
            info = inspection.timestamp_info(status)
            if info is not None:
                found.append((item.signed_revision, info))
        except _RESOURCE_ERRORS:
            raise
        except Exception:
            logger.warning("document timestamp %s could not be validated", item.field_name, exc_info=True)
        finally:
            await validation_context.aclose()
    return found


async def _check_signature(
    embedded: EmbeddedPdfSignature,
    context: VerificationContext,
    document: _Document,
    embedded_data: EmbeddedValidationData,
    archive: list[tuple[int, TimestampInfo]],
    names: set[str],
    total_revisions: int,
) -> SignatureReport:
    subfilter = str(embedded.sig_object.get("/SubFilter"))
    cert = embedded.signer_cert
    kind, common_name, organisation, organisation_id = inspection.signer_profile(cert)
    signer = dict(
        kind=kind, signer_name=common_name, organisation=organisation, organisation_id=organisation_id
    )
    if subfilter not in _SUBFILTERS:
        message = messages.UNSUPPORTED_FORMAT.format(subfilter=subfilter)
        return unverifiable_signature(embedded.field_name, SubIndication.FORMAT_FAILURE, message, **signer)
    unsupported = inspection.unsupported_algorithm(embedded.signer_info, cert)
    if unsupported is not None:
        message = messages.UNSUPPORTED_ALGORITHM.format(algorithm=unsupported)
        crypto = SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        return unverifiable_signature(embedded.field_name, crypto, message, **signer)
    validation_context = context.trust.validation_context(
        other_certs=embedded_data.certs, crls=embedded_data.crls, ocsps=embedded_data.ocsps
    )
    try:
        status = await async_validate_pdf_signature(embedded, validation_context)
        remembered = document.remembered.get(hashlib.sha256(cert.dump()).digest())
        chain = remembered or inspection.certificate_chain(
            cert, status.validation_path, validation_context.crls, validation_context.ocsps
        )
    finally:
        await validation_context.aclose()
    coverage = inspection.coverage_of(status.coverage)
    later = max(0, total_revisions - 1 - embedded.signed_revision)
    modifications = inspection.modification_report(
        coverage, status.diff_result, status.docmdp_ok, later, names
    )
    timestamp = inspection.timestamp_info(status.timestamp_validity)
    later_stamps = [info for revision, info in archive if revision > embedded.signed_revision]
    archive_info = next(
        (info for info in later_stamps if info.valid), later_stamps[0] if later_stamps else None
    )
    archived = archive_info is not None and archive_info.valid
    level = inspection.pades_level(
        embedded.signer_info, subfilter, status.validation_path, timestamp, embedded_data, archived
    )
    indication, sub_indication, message = judge_signature(
        status, coverage, modifications, timestamp, level, kind, context.required_level
    )
    return SignatureReport(
        field_name=embedded.field_name,
        indication=indication,
        sub_indication=sub_indication,
        message=message,
        kind=kind,
        signer_name=common_name,
        organisation=organisation,
        organisation_id=organisation_id,
        claimed_signing_time=status.signer_reported_dt,
        timestamp=timestamp,
        archive_timestamp=archive_info,
        certificate_chain=chain,
        digest_algorithm=status.md_algorithm,
        signature_algorithm=status.pkcs7_signature_mechanism,
        pades_level=level,
        coverage=coverage,
        modifications=modifications,
        certifying=embedded.docmdp_level is not None,
        algorithm_family=inspection.algorithm_family(cert),
    )
