"""Preparing what a party signs for e-service consent: the content, the signature, the checks.

The web layer runs these steps around two short transactions, so that rendering, signing and
verification (CPU work, and worker processes) never hold the database:

1. ``confirmation_content`` reads who is consenting (acting party, signing person, agencies);
2. ``sign_as`` renders the PDF, signs it with the person's remote-signing key (PAdES B-T) and
   has the notary verify the result: consent counts only with a signature that validates;
3. ``check_uploaded`` accepts instead a PDF the party signed with their own certificate: it
   must begin with the exact bytes of the draft the portal issued to them (so the signed
   content is ours, unaltered) and validate as TOTAL_PASSED.

Then ``services.consent.record_consent`` / ``record_revocation`` record the act.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue.regulations import Regulation
from portal.errors import NotFound, Unprocessable
from portal.models.agencies import Agency
from portal.models.parties import Party
from portal.notary import Notary
from portal.services.consent_views import ConfirmationContent
from portal.vocabulary import PERSON
from signing import (
    OWN_WORK,
    KeySigner,
    PadesLevel,
    SealPlacement,
    SignatureKind,
    SignatureSettings,
    async_sign_pdf,
)


async def agencies(db: AsyncSession) -> list[Agency]:
    return list((await db.execute(select(Agency).order_by(Agency.name))).scalars())


async def confirmation_content(db: AsyncSession, *, acting_party_id: int, signer_person_id: int,
                               agency_ids: list[int], email_copy: str | None,
                               on: date, regulation: Regulation) -> ConfirmationContent:
    acting = await db.get(Party, acting_party_id)
    signer = await db.get(Party, signer_person_id)
    if acting is None or signer is None:
        raise NotFound()
    names = {a.id: a.name for a in await agencies(db)}
    if any(agency_id not in names for agency_id in agency_ids):
        raise Unprocessable("unknown_agency")
    identifier = acting.id_number if acting.kind == PERSON else acting.credit_code
    return ConfirmationContent(
        party_name=acting.name, party_kind=acting.kind, party_identifier=identifier or "",
        signer_name=signer.name, agency_names=tuple(names[i] for i in sorted(agency_ids)),
        email_copy=email_copy, on=on, regulation=regulation)


async def sign_as(notary: Notary, signer: KeySigner, pdf: bytes, placement: SealPlacement,
                  reason: str, *, client: str = OWN_WORK) -> bytes:
    """Sign ``pdf`` for the person (B-T: with a trusted time) and verify the result, as a job
    of ``client`` (whose request this is) in the verification workers' fair share."""
    services = await notary.services()
    settings = SignatureSettings(level=PadesLevel.B_T, placement=placement, reason=reason)
    signed = await async_sign_pdf(pdf, signer, settings, timestamps=services.timestamps,
                                  trust=services.trust)
    report = await notary.verify(signed, client=client)
    if not report.passed:
        raise Unprocessable("signature_invalid", extra={"report": report.to_json_dict()})
    return signed


async def check_uploaded(notary: Notary, uploaded: bytes, draft: bytes, signer_name: str, *,
                         client: str) -> None:
    """An own-certificate signature over exactly our draft, by the person who is logged in
    (``client``: whom the upload came from, for the verification workers' fairness)."""
    if not uploaded.startswith(draft) or len(uploaded) == len(draft):
        raise Unprocessable("not_our_draft")
    report = await notary.verify(uploaded, client=client)
    signatures = [s for s in report.signatures if s.kind is SignatureKind.SIGNATURE]
    if not report.passed or not signatures:
        raise Unprocessable("signature_invalid", extra={"report": report.to_json_dict()})
    if report.changed_after_signing:
        raise Unprocessable("changed_after_signature", extra={"report": report.to_json_dict()})
    if not any(s.signer_name == signer_name for s in signatures):
        raise Unprocessable("signer_mismatch")
