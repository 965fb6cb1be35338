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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.catalogue import VERIFICATION as L
from portal.documents.pdf import CjkDocument, Colour
from signing import SealPlacement

__all__ = ["CertificateView", "ReportView", "SignatureView", "china_time", "render_report_pdf",
           "report_view"]

CHINA = ZoneInfo("Asia/Shanghai")
Rows = tuple[tuple[str, str], ...]
_STATES = {"TOTAL_PASSED": "passed", "TOTAL_FAILED": "failed", "INDETERMINATE": "indeterminate"}
_STATE_COLOURS: dict[str, Colour] = {
    "passed": (20, 100, 45), "failed": (170, 25, 25), "indeterminate": (120, 80, 0)}
_NAME_PART = re.compile(r", (?=[A-Z][A-Za-z /]*: )")  # "A: x, B: y" -> ["A: x", "B: y"]


@dataclass(frozen=True)
class CertificateView:
    title: str
    rows: Rows


@dataclass(frozen=True)
class SignatureView:
    title: str
    state: str
    """``passed``, ``failed`` or ``indeterminate`` (for styling)."""
    rows: Rows
    chain: tuple[CertificateView, ...]


@dataclass(frozen=True)
class ReportView:
    state: str
    summary: str
    rows: Rows
    signatures: tuple[SignatureView, ...]
    changed_after_signing: str | None = None
    """A warning shown above everything when content changed after a valid seal (issue 15)."""


def china_time(value: str | datetime | None) -> str:
    """An instant (ISO 8601 from the JSON, or aware) as China time; "未知" when absent."""
    if value is None:
        return L["unknown"]
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(CHINA).strftime(L["time_format"])


def certificate_name(name: str) -> str:
    """``"Common Name: 某局, Organization: 某局"`` → ``"名称：某局，单位：某局"``."""
    parts = []
    for part in _NAME_PART.split(name):
        key, separator, value = part.partition(": ")
        parts.append(f"{L.get(key, key)}：{value}" if separator else part)
    return "，".join(parts)


def report_view(report: Mapping[str, Any], *, expires_at: datetime | None = None) -> ReportView:
    signatures = report.get("signatures") or []
    rows = [
        (L["verdict"], L[report["indication"]]),
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
        signatures=tuple(_signature(number, item) for number, item in enumerate(signatures, 1)),
        changed_after_signing=L["changed_after_signing"] if report.get("changed_after_signing")
        and report["indication"] == "TOTAL_PASSED" else None,
    )


def _signature(number: int, item: Mapping[str, Any]) -> SignatureView:
    kind = L[item["kind"]] if item.get("kind") else L["kind_unknown"]
    verdict = f"{L[item['indication']]}：{item['message']}"
    code = item["indication"] + (f" / {item['sub_indication']}" if item.get("sub_indication") else "")
    rows: list[tuple[str, str]] = [
        (L["verdict"], verdict),
        (L["sub_indication"], code),
        (L["signer_name"], item.get("signer_name") or L["unknown"]),
        (L["organisation"], item.get("organisation") or L["none"]),
    ]
    if item.get("organisation_id"):
        rows.append((L["organisation_id"], item["organisation_id"]))
    rows += [
        (L["claimed_signing_time"], china_time(item.get("claimed_signing_time"))),
        (L["timestamp"], _timestamp(item.get("timestamp"))),
    ]
    if item.get("archive_timestamp"):
        rows.append((L["archive_timestamp"], _timestamp(item["archive_timestamp"])))
    level = item.get("pades_level")
    modifications = item.get("modifications") or {}
    rows += [
        (L["pades_level"], L[level] if level else L["not_pades"]),
        (L["coverage"], L[item["coverage"]] if item.get("coverage") else L["unknown"]),
        (L["modifications"], modifications.get("description") or L["unknown"]),
    ]
    if modifications:
        rows.append((L["later_revisions"], str(modifications.get("later_revisions", 0))))
    rows += [
        (L["digest_algorithm"], item.get("digest_algorithm") or L["unknown"]),
        (L["signature_algorithm"], item.get("signature_algorithm") or L["unknown"]),
        (L["certifying"], L["certifying_yes"] if item.get("certifying") else L["certifying_no"]),
        (L["field_name"], item["field_name"]),
    ]
    chain = tuple(_certificate(index, cert)
                  for index, cert in enumerate(item.get("certificate_chain") or [], 1))
    return SignatureView(
        title=L["signature_title"].format(number=number, kind=kind),
        state=_STATES[item["indication"]],
        rows=tuple(rows),
        chain=chain,
    )


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


def render_report_pdf(view: ReportView, *, created_at: datetime) -> tuple[bytes, SealPlacement]:
    """The report as an unsealed PDF and the box its visible seal goes into (CPU work: run it
    in a thread)."""
    document = CjkDocument(L["report_title"], created_at=created_at, footer=L["pdf_page"])
    document.heading(L["report_title"])
    document.paragraph(view.summary, size=13, colour=_STATE_COLOURS[view.state])
    if view.changed_after_signing:
        document.paragraph(view.changed_after_signing, size=13, colour=_STATE_COLOURS["indeterminate"])
    document.key_values(view.rows)
    for signature in view.signatures:
        document.heading(signature.title, 2, colour=_STATE_COLOURS[signature.state])
        document.key_values(signature.rows)
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
