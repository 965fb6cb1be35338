"""The power of attorney (授权委托书) of a delegation, as the party reads and signs it.

A party may be represented (APL art. 64(3): by one or two agents at a hearing; the portal's
delegations more generally), and the agency must be able to see on what authority someone
acts for the party. The document states who authorises (a person's name and ID number, or an
organisation's name and credit code with the agent who signs for it), whom (name and ID
number: the agency needs to know who appears before it), what the agent may do (the
delegation's scope, in words), from when until when, that the agent may not delegate further,
and the article of law. The page shows the same ``AuthorisationContent.rows()`` the PDF prints,
so what the party reads is what the party signs (``services.authorisation_views``); the
party's remote-signing key signs it (``services.consent_documents.sign_as``, as the e-service
confirmation).
"""

from __future__ import annotations

from datetime import datetime

from portal.catalogue import DELEGATION as L
from portal.documents.pdf import CjkDocument
from portal.services.authorisation_views import AuthorisationContent
from signing import SealPlacement


def render_authorisation(content: AuthorisationContent, *,
                         created_at: datetime) -> tuple[bytes, SealPlacement]:
    """The unsigned power of attorney and the box for the signature (CPU work: run in a thread)."""
    document = CjkDocument(L["authorisation.title"], created_at=created_at,
                           footer=L["authorisation.footer"])
    document.heading(L["authorisation.title"])
    document.paragraph(L["authorisation.intro"])
    document.key_values(content.rows(), label_width=44)
    for paragraph in L["authorisation.terms"].split("\n"):
        document.paragraph(paragraph)
    document.paragraph(L["authorisation.law"], size=9.5)
    placement = document.reserve_seal(36)
    return document.output(), placement
