"""The signature verification report as people read it: on the /verify page and as a PDF.

Both renderings are drawn from one presentation, ``ReportView``, built from the report's JSON
(``VerificationReport.to_json_dict()``, which is also what the API answers and what
``services.verification_reports`` keeps). So the page, the PDF and the JSON cannot drift
apart: the page shows the rows of the view, and the PDF prints the same rows.

The view turns codes into Chinese labels (``portal.catalogue.VERIFICATION``), instants into
China time, and certificate names (``"Common Name: …, Organization: …"`` as the verifier
writes them) into Chinese attribute names. The sentences inside the report — the summary,
each signature's explanation, the description of later changes — are the verifier's own
(``signing.messages``) and are shown as they are.

National-standard seals read the same way as PAdES ones: every signature names its
algorithm family (国密 SM2, RSA, ECDSA); a GB/T 38540 seal adds its name, code, format, maker,
validity and where the stamp sits, and its picture (the verifier's re-drawn PNG; the page
loads it from its own URL, the PDF prints it); an OFD report lists the files no signature
protects. Rows that mean nothing for a format (PAdES coverage and certification of an OFD
signature) are left out rather than shown as "unknown".
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.catalogue import VERIFICATION as L
from portal.documents.pdf import CjkDocument, Colour
from portal.legal_calendar import time_text
from signing import SealPlacement

__all__ = ["CertificateView", "ReportView", "SealPictureView", "SignatureView", "china_time",
           "render_report_pdf", "report_view", "seal_pictures"]

Rows = tuple[tuple[str, str], ...]
_STATES = {"TOTAL_PASSED": "passed", "TOTAL_FAILED": "failed", "INDETERMINATE": "indeterminate"}
_STATE_COLOURS: dict[str, Colour] = {
    "passed": (20, 100, 45), "failed": (170, 25, 25), "indeterminate": (120, 80, 0)}
_NAME_PART = re.compile(r", (?=[A-Z][A-Za-z /]*: )")  # "A: x, B: y" -> ["A: x", "B: y"]
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PICTURE_MM = 30.0
"""Printed size of a seal's picture in the PDF report (the real stamp is usually 40 mm)."""


@dataclass(frozen=True)
class CertificateView:
    title: str
    rows: Rows


@dataclass(frozen=True)
class SealPictureView:
    """The picture of a GB/T 38540 seal: ``number`` is the signature's (1-based), which the
    page's image URL names; ``alt`` describes it for screen readers."""

    number: int
    alt: str


@dataclass(frozen=True)
class SignatureView:
    title: str
    state: str
    """``passed``, ``failed`` or ``indeterminate`` (for styling)."""
    rows: Rows
    chain: tuple[CertificateView, ...]
    seal_picture: SealPictureView | None = None


@dataclass(frozen=True)
class ReportView:
    state: str
    summary: str
    rows: Rows
    signatures: tuple[SignatureView, ...]
    changed_after_signing: str | None = None
    """A warning shown above everything when content changed after a valid seal."""
    unprotected_files: tuple[str, ...] = ()
    """OFD: package files no signature protects (listed with a warning)."""


def china_time(value: str | datetime | None) -> str:
    """An instant (ISO 8601 from the JSON, or aware) as China time; "未知" when absent."""
    if value is None:
        return L["unknown"]
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return L["time_format"].format(time=time_text(instant, "second"))


def certificate_name(name: str) -> str:
    """``"Common Name: 某局, Organization: 某局"`` → ``"名称：某局，单位：某局"``."""
    parts = []
    for part in _NAME_PART.split(name):
        key, separator, value = part.partition(": ")
        parts.append(f"{L.get(key, key)}：{value}" if separator else part)
    return "，".join(parts)


def report_view(report: Mapping[str, Any], *, expires_at: datetime | None = None) -> ReportView:
    signatures = report.get("signatures") or []
    document_format = report.get("document_format") or "PDF"
    rows = [
        (L["verdict"], L[report["indication"]]),
        (L["document_format"], L[document_format]),
        (L["signatures_count"], str(len(signatures))),
        (L["document_sha256"], report["document_sha256"]),
        (L["size"], L["size_value"].format(size=f"{report['size']:,}")),
        (L["validated_at"], china_time(report["validated_at"])),
    ]
    if expires_at is not None:
        rows.append((L["expires_at"], china_time(expires_at)))
    return ReportView(
        state=_STATES[report["indication"]],
        summary=report["summary"],
        rows=tuple(rows),
        signatures=tuple(_signature(number, item, document_format)
                         for number, item in enumerate(signatures, 1)),
        changed_after_signing=L["changed_after_signing"] if report.get("changed_after_signing")
        and report["indication"] == "TOTAL_PASSED" else None,
        unprotected_files=tuple(report.get("unprotected_files") or ()),
    )


def seal_pictures(report: Mapping[str, Any]) -> dict[int, bytes]:
    """The PNG of every signature's seal by signature number (1-based): only pictures the
    verifier drew, and only bytes that are the PNG it wrote."""
    pictures = {}
    for number, item in enumerate(report.get("signatures") or [], 1):
        encoded = (item.get("seal") or {}).get("picture_png")
        try:
            png = base64.b64decode(encoded, validate=True) if encoded else b""
        except (binascii.Error, ValueError):
            continue
        if png.startswith(_PNG_SIGNATURE):
            pictures[number] = png
    return pictures


def _signature(number: int, item: Mapping[str, Any], document_format: str) -> SignatureView:
    kind = L[item["kind"]] if item.get("kind") else L["kind_unknown"]
    verdict = f"{L[item['indication']]}：{item['message']}"
    code = item["indication"] + (f" / {item['sub_indication']}" if item.get("sub_indication") else "")
    family = item.get("algorithm_family")
    rows: list[tuple[str, str]] = [
        (L["verdict"], verdict),
        (L["sub_indication"], code),
        (L["algorithm_family"], L[family] if family else L["unknown"]),
        (L["signer_name"], item.get("signer_name") or L["unknown"]),
        (L["organisation"], item.get("organisation") or L["none"]),
    ]
    if item.get("organisation_id"):
        rows.append((L["organisation_id"], item["organisation_id"]))
    seal = item.get("seal")
    if seal:
        rows += _seal_rows(seal)
    rows += [
        (L["claimed_signing_time"], china_time(item.get("claimed_signing_time"))),
        (L["timestamp"], _timestamp(item.get("timestamp"))),
    ]
    if item.get("archive_timestamp"):
        rows.append((L["archive_timestamp"], _timestamp(item["archive_timestamp"])))
    modifications = item.get("modifications") or {}
    pdf = document_format == "PDF"
    rows.append((L["pades_level"], _format_name(item, pdf)))
    if pdf or item.get("coverage"):
        rows.append((L["coverage"], L[item["coverage"]] if item.get("coverage") else L["unknown"]))
    rows.append((L["modifications"], modifications.get("description") or L["unknown"]))
    if modifications:
        rows.append((L["later_revisions"], str(modifications.get("later_revisions", 0))))
    rows += [
        (L["digest_algorithm"], item.get("digest_algorithm") or L["unknown"]),
        (L["signature_algorithm"], item.get("signature_algorithm") or L["unknown"]),
    ]
    if pdf:
        rows.append((L["certifying"], L["certifying_yes"] if item.get("certifying") else L["certifying_no"]))
    rows.append((L["field_name"] if pdf else L["signature_id"], item["field_name"]))
    chain = tuple(_certificate(index, cert)
                  for index, cert in enumerate(item.get("certificate_chain") or [], 1))
    picture = None
    if seal and seal.get("picture_png"):
        picture = SealPictureView(number=number, alt=L["seal_picture_alt"].format(name=seal["name"]))
    return SignatureView(
        title=L["signature_title"].format(number=number, kind=kind),
        state=_STATES[item["indication"]],
        rows=tuple(rows),
        chain=chain,
        seal_picture=picture,
    )


def _format_name(item: Mapping[str, Any], pdf: bool) -> str:
    """The signature's format: its PAdES level, a GB/T 38540 seal, or an SM2 PKCS#7."""
    if item.get("pades_level"):
        return L[item["pades_level"]]
    if item.get("seal"):
        return L["ses_format"].format(standard=item["seal"]["standard"])
    if not pdf:
        return L["gm_pkcs7_format"]
    return L["not_pades"]


def _seal_rows(seal: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = [
        (L["seal_name"], seal["name"]),
        (L["seal_id"], seal["seal_id"]),
        (L["seal_standard"], seal["standard"]),
        (L["seal_maker"], seal.get("maker") or L["unknown"]),
        (L["seal_validity"], L["validity_value"].format(start=china_time(seal["valid_from"]),
                                                        end=china_time(seal["valid_until"]))),
    ]
    if seal.get("page"):
        box = seal.get("box")
        where = (L["seal_position_value"].format(page=seal["page"], x=_mm(box[0]), y=_mm(box[1]),
                                                 width=_mm(box[2]), height=_mm(box[3]))
                 if box else L["seal_position_page"].format(page=seal["page"]))
        rows.append((L["seal_position"], where))
    if not seal.get("picture_png"):
        rows.append((L["seal_picture"], L["seal_picture_none"].format(kind=seal.get("picture_type") or "?")))
    return rows


def _mm(value: float) -> str:
    """``130.0`` → ``130``, ``12.5`` → ``12.5``."""
    return f"{value:.1f}".removesuffix(".0")


def _timestamp(info: Mapping[str, Any] | None) -> str:
    if not info:
        return L["none"]
    validity = L["timestamp_valid"] if info.get("valid") else L["timestamp_invalid"]
    return L["timestamp_value"].format(time=china_time(info["time"]), tsa=info.get("tsa") or L["unknown"],
                                       validity=validity)


def _certificate(number: int, cert: Mapping[str, Any]) -> CertificateView:
    status = cert["revocation"]
    if status == "REVOKED" and cert.get("revoked_at"):
        revocation = L["revoked_value"].format(time=china_time(cert["revoked_at"]))
    else:
        revocation = L[status]
    if cert.get("revocation_source"):
        source = cert["revocation_source"]
        revocation = L["revocation_value"].format(status=revocation, source=L.get(source, source))
    return CertificateView(
        title=L["certificate_title"].format(number=number),
        rows=(
            (L["subject"], certificate_name(cert["subject"])),
            (L["issuer"], certificate_name(cert["issuer"])),
            (L["serial_number"], cert["serial_number"]),
            (L["validity"], L["validity_value"].format(start=china_time(cert["not_before"]),
                                                       end=china_time(cert["not_after"]))),
            (L["revocation"], revocation),
        ),
    )


def render_report_pdf(view: ReportView, *, created_at: datetime,
                      pictures: Mapping[int, bytes] | None = None) -> tuple[bytes, SealPlacement]:
    """The report as an unsealed PDF and the box its visible seal goes into (CPU work: run it
    in a thread). ``pictures``: the seal pictures by signature number (``seal_picture``)."""
    document = CjkDocument(L["report_title"], created_at=created_at, footer=L["pdf_page"])
    document.heading(L["report_title"])
    if view.changed_after_signing:  # first: the verdict below calls the seal valid
        document.paragraph(view.changed_after_signing, size=13, colour=_STATE_COLOURS["indeterminate"])
    document.paragraph(view.summary, size=13, colour=_STATE_COLOURS[view.state])
    document.key_values(view.rows)
    if view.unprotected_files:
        document.heading(L["unprotected_title"], 2, colour=_STATE_COLOURS["indeterminate"])
        document.paragraph(L["unprotected_intro"])
        document.paragraph("\n".join(view.unprotected_files), size=9)
    for signature in view.signatures:
        document.heading(signature.title, 2, colour=_STATE_COLOURS[signature.state])
        document.key_values(signature.rows)
        picture = (pictures or {}).get(signature.seal_picture.number) if signature.seal_picture else None
        if picture is not None:
            document.paragraph(L["seal_picture"], size=9, colour=(70, 70, 70))
            document.image(picture, _PICTURE_MM)
        if signature.chain:
            document.heading(L["chain"], 3, keep_with_next=60)
            document.table(
                (L["subject"], L["issuer"], L["validity"], L["revocation"]),
                [_chain_row(certificate) for certificate in signature.chain],
                widths=(30, 30, 22, 18),
            )
    document.paragraph(L["pdf_intro"], size=9, colour=(70, 70, 70))
    placement = document.reserve_seal()
    return document.output(), placement


def _chain_row(certificate: CertificateView) -> tuple[str, str, str, str]:
    values = dict(certificate.rows)
    subject = f"{values[L['subject']]}（{L['serial_number']}：{values[L['serial_number']]}）"
    return subject, values[L["issuer"]], values[L["validity"]], values[L["revocation"]]
