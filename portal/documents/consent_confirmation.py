"""The e-service confirmation (电子送达确认书) and its revocation, as the party reads and signs it.

The content records what LAW.md requires (APL art. 61; FJ art. 19): who consents (a natural
person's name and ID number, or an organisation's name, credit code and the signing agent),
the designated receiving system (the portal mailbox; optionally an e-mail address for copies),
the scope (all agencies or listed ones), the date, and the legal effect in plain Chinese. The
page shows the same ``ConfirmationContent.rows()`` (``services.consent_views``) the PDF prints,
so what the party reads is what the party signs.
"""

from __future__ import annotations

from datetime import datetime

from portal.catalogue import CONSENT as L
from portal.documents.pdf import CjkDocument
from portal.legal_calendar import day_text
from portal.services.consent_views import ConfirmationContent
from portal.vocabulary import PERSON
from signing import SealPlacement


def render_confirmation(content: ConfirmationContent, *, created_at: datetime) -> tuple[bytes, SealPlacement]:
    """The unsigned confirmation and the box for the party's visible signature."""
    document = CjkDocument(L["title"], created_at=created_at, footer=L["footer"])
    document.heading(L["title"])
    document.paragraph(L["intro"])
    document.key_values(content.rows(), label_width=44)
    document.heading(L["effect_title"], 2)
    for paragraph in content.effect_paragraphs():
        document.paragraph(paragraph)
    placement = document.reserve_seal(36)
    return document.output(), placement


def render_revocation(content: ConfirmationContent, *, revoked_consent: tuple[str, str],
                      created_at: datetime) -> tuple[bytes, SealPlacement]:
    """The unsigned revocation; ``revoked_consent`` is (signed date text, document SHA-256)."""
    document = CjkDocument(L["revocation_title"], created_at=created_at, footer=L["footer"])
    document.heading(L["revocation_title"])
    document.paragraph(L["revocation_intro"])
    signed, sha256 = revoked_consent
    document.key_values([
        *content.rows()[:3 if content.party_kind != PERSON else 2],
        (L["revoked_consent"], L["revoked_consent_value"].format(signed=signed, sha256=sha256)),
        (L["date"], day_text(content.on)),
    ], label_width=44)
    placement = document.reserve_seal(36)
    return document.output(), placement
