"""Consent to electronic service: record it, revoke it, and say whether it is in force.

Service by electronic means is lawful only after the party agreed and signed a confirmation
(FJ art. 19; APL art. 61). The consent in force is the party's most recent signed consent,
unless that one has been revoked; a revocation ends it from that instant and does not undo
earlier service. Signing and revoking are appended to the party's evidence chain, so they are
ordered with every delivery to that party: a delivery either arrived before a revocation or is
refused after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import Kind, Renderer
from portal.errors import Conflict, ConsentMissing
from portal.legal_calendar import china_date
from portal.models.eservice import Consent, ConsentRevocation
from portal.services import evidence, notification_preferences, outbox
from portal.vocabulary import SCOPE_ALL


def party_chain(party_id: int) -> str:
    return f"party:{party_id}"


@dataclass(frozen=True)
class ConsentRecord:
    consent: Consent
    revocation: ConsentRevocation | None

    @property
    def in_force(self) -> bool:
        return self.revocation is None


async def history(db: AsyncSession, party_id: int) -> list[ConsentRecord]:
    """Every consent of the party, newest first, each with its revocation if any.
    populate_existing: read again under the party's lock, it must not answer with copies
    the session holds from a reading before the lock."""
    rows = (await db.execute(
        select(Consent, ConsentRevocation)
        .outerjoin(ConsentRevocation, ConsentRevocation.consent_id == Consent.id)
        .where(Consent.party_id == party_id)
        .order_by(Consent.signed_at.desc(), Consent.id.desc())
        .execution_options(populate_existing=True)
    )).all()
    return [ConsentRecord(consent, revocation) for consent, revocation in rows]


async def latest(db: AsyncSession, party_id: int) -> ConsentRecord | None:
    records = await history(db, party_id)
    return records[0] if records else None


async def require_in_force(db: AsyncSession, party_id: int, agency_id: int) -> Consent:
    """The consent an agency's delivery relies on, or ``ConsentMissing`` with the reason.

    Call with the party's chain locked (``evidence.lock``) so no revocation slips in between.
    """
    record = await latest(db, party_id)
    if record is None:
        raise ConsentMissing("consent_required")
    if not record.in_force:
        raise ConsentMissing("consent_revoked")
    if not record.consent.covers(agency_id):
        raise ConsentMissing("consent_required")
    return record.consent


async def record_consent(db: AsyncSession, *, party_id: int, signer_person_id: int, scope: str,
                         agency_ids: list[int], email_copy: str | None, method: str,
                         document_sha256: str, actor: str, renderer: Renderer) -> Consent:
    """Record a signed confirmation whose signature the caller has already verified."""
    event = await evidence.append(db, chain=party_chain(party_id), kind="consent_signed", actor=actor,
                                  payload={"scope": scope, "agency_ids": sorted(agency_ids),
                                           "email_copy": bool(email_copy), "method": method,
                                           "document_sha256": document_sha256})
    consent = Consent(party_id=party_id, signer_person_id=signer_person_id, scope=scope,
                      agency_ids=sorted(agency_ids) if scope != SCOPE_ALL else [],
                      email_copy=email_copy, method=method, document_sha256=document_sha256,
                      signed_at=event.occurred_at, event_hash=event.hash)
    db.add(consent)
    await db.flush()
    if email_copy:  # the address for copies becomes the party's e-mail notification channel
        current = await notification_preferences.get_preferences(db, party_id)
        await notification_preferences.set_preferences(db, party_id, email=email_copy, email_enabled=True,
                                                       mobile=current.mobile,
                                                       sms_enabled=current.sms_enabled)
    await outbox.enqueue(db, event_id=f"consent:{event.hash}", kind=Kind.CONSENT_SIGNED,
                         party_id=party_id, renderer=renderer, now=event.occurred_at, link="/consent",
                         context={"consent_date": china_date(event.occurred_at)})
    return consent


async def record_revocation(db: AsyncSession, *, party_id: int, signer_person_id: int,
                            document_sha256: str, actor: str,
                            renderer: Renderer) -> tuple[Consent, ConsentRevocation]:
    await evidence.lock(db, party_chain(party_id))
    record = await latest(db, party_id)
    if record is None or not record.in_force:
        raise Conflict(code="no_consent_in_force")
    event = await evidence.append(db, chain=party_chain(party_id), kind="consent_revoked", actor=actor,
                                  payload={"consent_event": record.consent.event_hash,
                                           "document_sha256": document_sha256})
    revocation = ConsentRevocation(consent_id=record.consent.id, signer_person_id=signer_person_id,
                                   document_sha256=document_sha256, revoked_at=event.occurred_at,
                                   event_hash=event.hash)
    db.add(revocation)
    await db.flush()
    await outbox.enqueue(db, event_id=f"revocation:{event.hash}", kind=Kind.CONSENT_REVOKED,
                         party_id=party_id, renderer=renderer, now=event.occurred_at, link="/consent",
                         context={"consent_date": china_date(event.occurred_at)})
    return record.consent, revocation
