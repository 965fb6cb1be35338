"""The service receipt (送达回证): what a court reads to learn when a document was served.

It states the document (title, type, SHA-256), the serving agency, the recipient, the case,
the arrival instant in China time and UTC to the microsecond, the consent relied on, the
arrival event's hash in the evidence chain and the RFC 3161 timestamp over it. The portal
then seals it at PAdES B-LT, so it can be verified offline with any PAdES validator.
"""

from __future__ import annotations

from datetime import datetime

from portal.cases.codes import display
from portal.catalogue import SERVICE_RECEIPT as L
from portal.catalogue.regulations import Regulation
from portal.documents.pdf import CjkDocument
from portal.identifiers import masked_identifier
from portal.legal_calendar import time_text
from portal.services.delivery_views import DeliveryView, utc_text
from signing import SealPlacement


def china_time(instant: datetime) -> str:
    """The instant as recorded, to the microsecond: the receipt is what a court reads."""
    return time_text(instant, "microsecond")


def render_service_receipt(view: DeliveryView, *, issued_at: datetime,
                           regulation: Regulation) -> tuple[bytes, SealPlacement]:
    """The unsealed receipt and the box its seal goes into (CPU work: run it in a thread)."""
    d = view.delivery
    timestamp = L["timestamp_pending"]
    if view.timestamp:
        timestamp = L["timestamp_value"].format(tsa=view.timestamp.tsa_name,
                                                time=utc_text(view.timestamp.gen_time))
    document = CjkDocument(L["title"], created_at=issued_at, footer=L["footer"])
    document.heading(L["title"])
    document.paragraph(L["intro"])
    document.key_values([
        (L["document"], f"{d.title}（{d.document_type}）"),
        (L["document_sha256"], d.document_sha256),
        (L["agency"], view.agency.name),
        (L["recipient"], view.party.name),
        (L["identifier"], masked_identifier(view.party.id_number or view.party.credit_code)),
        (L["case_code"], display(view.case.code)),
        (L["case_number"], view.case.agency_case_number),
        (L["method"], L["method_value"]),
        (L["service_time_china"], china_time(d.arrived_at)),
        (L["service_time_utc"], utc_text(d.arrived_at)),
        (L["consent"], L["consent_value"].format(signed=china_time(view.consent.signed_at),
                                                  sha256=view.consent.document_sha256)),
        (L["arrival_event"], d.arrival_event_hash),
        (L["timestamp"], timestamp),
    ], label_width=48)
    document.paragraph(L["legal_basis"].format(e_service=regulation.cite(regulation.e_service)), size=9.5)
    document.paragraph(L["verify_hint"], size=9, colour=(70, 70, 70))
    placement = document.reserve_seal()
    return document.output(), placement
