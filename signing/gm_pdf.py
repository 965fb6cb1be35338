"""National-standard signature values inside a PDF: a GB/T 38540 seal or a GB/T 35275 PKCS#7.

Chinese seal systems put two kinds of value into a PDF signature's ``/Contents`` that pyhanko,
which reads CMS under the ISO/IETF identifiers, cannot take: a GB/T 38540 ``SES_Signature``
(2020 or GM/T 0031-2014 form) whose ``dataHash`` is the SM3 digest of the signed byte range,
and a GB/T 35275 (GM/T 0010) SM2 PKCS#7 ``SignedData`` under the ``1.2.156.10197.6.1.4.2.2``
content type, detached over the byte range. (SM2 CMS under the ordinary identifiers goes
through pyhanko itself, with ``signing.sm2``'s signature validator.) For both:

1. the byte range and the file around it are judged by pyhanko's own code:
   ``NationalPdfSignature`` is its ``EmbeddedPdfSignature`` without the CMS parsing, so the
   coverage (whole file, whole revision, anything less) and the modification analysis of
   later revisions are the same as for a PAdES signature;
2. the value is judged by ``signing.gm_verify`` over the byte-range bytes: digest, SM2
   signature, for a seal its maker's signature, validity and binding, the chains;
3. the verdict follows ``signing.verdict``'s order: a byte range that leaves out more than
   the value itself fails first (``FORMAT_FAILURE``), then the value's own failure, then
   changes after signing beyond what is allowed (``DISALLOWED_MODIFICATION``).

The stamp's page and box (millimetres from the top left, as OFD gives them) come from the
signature's widget annotation, for the report's seal.
"""

from __future__ import annotations

import dataclasses

from asn1crypto import cms, parser
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, extract_contents

from signing import inspection, messages
from signing.gm_cms import GM_SIGNED_DATA_OID
from signing.gm_verify import Placement, check_gm_signature
from signing.report import Coverage, Indication, SignatureReport, SubIndication
from signing.ses import read_signature
from signing.trust import TrustSettings

__all__ = ["NationalPdfSignature", "check_national_signature", "national_value"]

_MM_PER_PT = 25.4 / 72
_MAX_PAGE_SEARCH = 500
"""Pages searched for the stamp's widget; beyond, the report gives no page."""


def national_value(sig_object: generic.PdfObject) -> bytes | None:
    """The DER value in ``/Contents`` (zero padding removed) if it is a GB/T 38540 seal or a
    GB/T 35275 ``SignedData``; ``None`` for anything else (pyhanko's business)."""
    try:
        dictionary = sig_object.get_object()
        if not isinstance(dictionary, generic.DictionaryObject):
            return None
        contents = extract_contents(dictionary)
        _class, _method, _tag, header, body, _rest = parser.parse(contents)
    except (ValueError, TypeError, KeyError, OSError):
        return None
    der = contents[: len(header) + len(body)]
    try:
        read_signature(der)
        return der
    except ValueError:
        pass
    try:
        kind = cms.ContentInfo.load(der, strict=True)["content_type"].dotted
    except (ValueError, TypeError, KeyError):
        return None
    return der if kind == GM_SIGNED_DATA_OID else None


class NationalPdfSignature(EmbeddedPdfSignature):
    """pyhanko's view of an embedded signature, for a value that is not CMS it can parse: the
    byte range, the signed revision, coverage and modification analysis, no ``signed_data``."""

    def __init__(self, reader: PdfFileReader, sig_field: generic.DictionaryObject, fq_name: str,
                 value: bytes) -> None:
        self.reader = reader
        if isinstance(sig_field, generic.IndirectObject):
            sig_field = sig_field.get_object()
        self.sig_field = sig_field
        sig_object_ref = sig_field.raw_get("/V")
        self.sig_object = sig_object_ref.get_object()
        self.byte_range = self.sig_object.raw_get("/ByteRange")
        self.pkcs7_content = extract_contents(self.sig_object)  # with padding: coverage counts it
        self.value = value
        self.md_algorithm = self.external_md_algorithm = "sm3"
        self.signed_revision = reader.xrefs.get_last_change(sig_object_ref.reference)
        self.coverage = None
        self.external_digests = {}
        self._docmdp = self._fieldmdp = None
        self._docmdp_queried = self._fieldmdp_queried = False
        self.tst_signature_digest = None
        self.diff_result = None
        self._integrity_checked = False
        self.fq_name = fq_name
        self._sd_cert_info = None

    def signed_bytes(self) -> bytes:
        """The bytes the byte range names (bounded by the file, which the verifier bounds)."""
        stream = self.reader.stream
        numbers = [int(number) for number in self.byte_range]
        parts = []
        for start, length in zip(numbers[::2], numbers[1::2], strict=True):
            stream.seek(start)
            parts.append(stream.read(length))
        return b"".join(parts)

    def placement(self) -> Placement | None:
        """The widget's page (1-based) and box in millimetres from the page's top left."""
        widget = self.sig_field if "/Rect" in self.sig_field else _first_kid(self.sig_field)
        if widget is None:
            return None
        try:
            x1, y1, x2, y2 = (float(number) for number in widget["/Rect"])
            page_ref = widget.raw_get("/P")
        except (KeyError, TypeError, ValueError):
            return None
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            return None  # an invisible signature: no stamp to place
        page, height = self._page_of(page_ref)
        if page is None or height is None:
            return Placement(page=None, box=None)
        box = (x1 * _MM_PER_PT, (height - y2) * _MM_PER_PT, (x2 - x1) * _MM_PER_PT, (y2 - y1) * _MM_PER_PT)
        return Placement(page=page, box=tuple(round(value, 1) for value in box))  # type: ignore[arg-type]

    def _page_of(self, page_ref: object) -> tuple[int | None, float | None]:
        if not isinstance(page_ref, generic.IndirectObject):
            return None, None
        count = int(self.reader.root["/Pages"]["/Count"])
        for index in range(min(count, _MAX_PAGE_SEARCH)):
            reference, _resources = self.reader.find_page_for_modification(index)
            if reference.reference == page_ref.reference:
                media_box = reference.get_object()["/MediaBox"]
                return index + 1, float(media_box[3]) - float(media_box[1])
        return None, None


def _first_kid(field: generic.DictionaryObject) -> generic.DictionaryObject | None:
    kids = field.get("/Kids")
    if not kids:
        return None
    kid = kids[0].get_object()
    return kid if isinstance(kid, generic.DictionaryObject) else None


async def check_national_signature(
    signature: NationalPdfSignature, trust: TrustSettings, names: set[str], total_revisions: int
) -> SignatureReport:
    """The report on one national-standard value in a PDF (see the module's docstring)."""
    signature.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    integrity = signature.summarise_integrity_info()
    coverage = inspection.coverage_of(signature.coverage)
    later = max(0, total_revisions - 1 - signature.signed_revision)
    modifications = inspection.modification_report(
        coverage, signature.diff_result, integrity["docmdp_ok"], later, names
    )
    report = await check_gm_signature(
        signature.value, signature.signed_bytes(), trust, signature.field_name, signature.placement()
    )
    report = dataclasses.replace(report, coverage=coverage, modifications=modifications,
                                 certifying=signature.docmdp_level is not None)
    failed = Indication.TOTAL_FAILED
    if coverage is Coverage.PARTIAL:
        return dataclasses.replace(report, indication=failed, sub_indication=SubIndication.FORMAT_FAILURE,
                                   message=messages.PARTIAL_COVERAGE)
    if report.indication is not Indication.TOTAL_PASSED:
        return report
    if modifications.level is None:
        return dataclasses.replace(report, indication=Indication.INDETERMINATE,
                                   sub_indication=SubIndication.GENERIC, message=modifications.description)
    if not modifications.allowed:
        return dataclasses.replace(report, indication=failed,
                                   sub_indication=SubIndication.DISALLOWED_MODIFICATION,
                                   message=modifications.description)
    return report
