"""What a party reads and signs to consent to e-service: one value for the page and the PDF.

``services.consent_documents.confirmation_content`` gathers it; the consent page shows its
``rows()`` and ``portal.documents.consent_confirmation`` prints the same rows, so what the
party reads is what the party signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.catalogue import CONSENT as L
from portal.catalogue.regulations import Regulation
from portal.legal_calendar import day_text
from portal.vocabulary import PERSON


@dataclass(frozen=True)
class ConfirmationContent:
    party_name: str
    party_kind: str
    party_identifier: str
    signer_name: str
    agency_names: tuple[str, ...]
    """Empty: all agencies."""
    email_copy: str | None
    on: date
    regulation: Regulation
    """The province's platform regulation the legal effect cites (``PORTAL_PROVINCE``)."""

    def rows(self) -> list[tuple[str, str]]:
        identifier_label = (L["person_identifier"] if self.party_kind == PERSON
                            else L["organisation_identifier"])
        rows = [(L["party"], self.party_name), (identifier_label, self.party_identifier)]
        if self.party_kind != PERSON:
            rows.append((L["signer"], self.signer_name))
        email = (f"{self.email_copy}{L['email_copy_note']}" if self.email_copy else L["no_email_copy"])
        rows += [
            (L["receiving_system"], L["receiving_system_value"]),
            (L["email_copy"], email),
            (L["scope"], "、".join(self.agency_names) if self.agency_names else L["scope_all"]),
            (L["date"], day_text(self.on)),
        ]
        return rows

    def effect_paragraphs(self) -> list[str]:
        article = self.regulation.cite(self.regulation.e_service)
        return L["effect"].format(e_service=article).split("\n")
