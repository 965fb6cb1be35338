"""The submission receipt (提交回执): what a party shows to prove it stated, defended or applied
in time, and what it said.

It names the case (code and the agency's case number), the agency, the party and whoever
acted for it, the kind of submission and its receipt number, the instant the portal received
it (China time and UTC, to the microsecond), the window it fell in as it stood then, the
SHA-256 of the content and of each attachment, and the submission's event hash in the case's
evidence chain; then the content itself and the article of law that protects the act (for a
statement, APL art. 45: the penalty may not be made heavier for it). The portal seals it at
PAdES B-LT with a timestamp (``portal.notary``), so anyone can verify it offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from portal.attachments import internal_name
from portal.cases.codes import display
from portal.catalogue import CASES
from portal.catalogue import RIGHTS as L
from portal.documents.pdf import CjkDocument
from portal.documents.service_receipt import china_time
from portal.evidence_hash import instant_text
from portal.identifiers import masked_identifier
from portal.legal_calendar import day_text
from portal.services.submission_views import SubmissionView
from signing import SealPlacement


def _day(value: str) -> str:
    return day_text(date.fromisoformat(value))


def content_rows(kind: str, content: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The content of a submission as labelled lines, in the words the party used."""
    rows: list[tuple[str, str]] = []
    if kind == "recusal":
        target = L[f"target.{content.get('target')}"] if content.get("target") else ""
        credential = f"（{content['credential_number']}）" if content.get("credential_number") else ""
        rows.append((L["content.target"], f"{target} {content.get('name', '')}{credential}"))
    if kind == "payment_plan":
        rows.append((L["content.plan"], L[f"plan.{content.get('plan')}"]))
    if kind == "waiver":
        rows.append((L["content.waived"], "、".join(L[f"waived.{w}"] for w in content["waived"])))
    if kind == "objection":
        rows.append((L["content.subject"], subject_text(content.get("subject", {}))))
    for key in ("defer_until", "instalments", "reasons", "plan_detail", "text", "reason", "agents",
                "details", "correction"):
        value = content.get(key)
        if not value:
            continue
        if key == "defer_until":
            value = _day(str(value))
        elif key == "agents":
            value = "、".join(value)
        rows.append((L[f"content.{key}"], str(value)))
    return rows


def subject_text(subject: Mapping[str, Any]) -> str:
    """What an objection is about, in words (``cases.objections.Subject.content``)."""
    kind = subject.get("kind")
    if kind == "delivery":
        return L["subject.delivery"].format(title=subject.get("title", ""))
    if kind == "publication":
        return L["subject.publication"].format(id=subject.get("publication"),
                                               version=subject.get("version"))
    return L["subject.case"]


def render_submission_receipt(view: SubmissionView, *,
                              issued_at: datetime) -> tuple[bytes, SealPlacement]:
    """The unsealed receipt and the box its seal goes into (CPU work: run it in a thread)."""
    s = view.submission
    kind = L[f"kind.{s.kind}"]
    title = L["receipt.title"].format(kind=kind)
    document = CjkDocument(title, created_at=issued_at, footer=L["receipt.footer"])
    document.heading(title)
    document.paragraph(L["receipt.intro"].format(kind=kind))
    rows = [
        (L["receipt.number"], s.public_id),
        (L["receipt.kind"], kind),
        *([(L["receipt.case_code"], display(view.case.code))] if view.case else []),
        (L["receipt.case_number"], view.agency_case_number),
        (L["receipt.agency"], view.agency.name),
        (L["receipt.party"], view.party.name),
        (L["receipt.identifier"], masked_identifier(view.party.id_number or view.party.credit_code)),
    ]
    if view.acts_for_other:
        rows.append((L["receipt.submitter"], view.submitter.name))
    rows += [(L["receipt.received_china"], china_time(s.submitted_at)),
             (L["receipt.received_utc"], instant_text(s.submitted_at))]
    if s.window_kind and s.window_last_day:
        rows.append((L["receipt.window"], L["receipt.window_value"].format(
            label=CASES[f"deadline.{s.window_kind}"], day=_day(s.window_last_day.isoformat()))))
    rows.append((L["receipt.content_sha256"], s.content_sha256))
    attachments = [L["receipt.attachment_value"].format(
        name=internal_name(a.position, a.media_type), size=f"{a.size:,}", sha256=a.document_sha256)
        for a in view.attachments]
    rows += [(L["receipt.attachments"], "\n".join(attachments) or L["none"]),
             (L["receipt.event"], s.event_hash)]
    document.key_values(rows, label_width=48)
    document.heading(L["receipt.content_title"], 2)
    document.key_values(content_rows(s.kind, s.content), label_width=36)
    document.paragraph(L[f"law.{s.kind}"], size=9.5)
    document.paragraph(L["receipt.verify_hint"], size=9, colour=(70, 70, 70))
    placement = document.reserve_seal()
    return document.output(), placement
