"""Signed powers of attorney (授权委托书) of delegations, and who acts for a case's parties as
the agency sees it (APL art. 64(3): a party may be represented; the agency must know by whom
and on what authority).

- ``content`` gathers what the principal signs for one of its delegations in force;
- ``record`` keeps the signed PDF once per delegation, under the principal's chain lock, with a
  ``delegation_authorisation_signed`` event (the signature was verified before: the caller
  signs through ``consent_documents.sign_as``, which refuses what does not validate);
- ``representatives`` lists, for an agency's case, everyone who may act now for each party of
  it (``full`` scope: a delegate who may only read the mailbox acts before no agency, so the
  agency does not learn of them), with the signed authorisation where there is one.

A delegation or case that is not the caller's is ``NotFound`` (ASVS v5.0.0-8.2.2, 8.4.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import database_now, utcnow
from portal.errors import Conflict, NotFound
from portal.legal_calendar import china_date
from portal.models.cases import Case
from portal.models.parties import Party, Representation, RepresentationAuthorisation
from portal.services import cases, delegations, evidence
from portal.services.authorisation_views import AuthorisationContent
from portal.services.consent import party_chain
from portal.services.identity import in_force
from portal.vocabulary import PERSON, SCOPE_FULL

SIGNED = "delegation_authorisation_signed"


async def content(db: AsyncSession, *, principal_id: int, delegation_id: int,
                  signer_person_id: int) -> AuthorisationContent:
    """What the principal signs for its delegation ``delegation_id``, if it is in force."""
    shown = await delegations.delegation(db, principal_id, delegation_id)
    if shown.status != delegations.IN_FORCE:
        raise Conflict(code="delegation_not_in_force")
    principal, signer, agent = (await db.get(Party, principal_id), await db.get(Party, signer_person_id),
                                await db.get(Party, shown.agent_id))
    if principal is None or signer is None or agent is None:
        raise NotFound()
    identifier = principal.id_number if principal.kind == PERSON else principal.credit_code
    return AuthorisationContent(
        principal_name=principal.name, principal_kind=principal.kind,
        principal_identifier=identifier or "", signer_name=signer.name, agent_name=agent.name,
        agent_id_number=agent.id_number or "", scope=shown.scope,
        granted_on=china_date(shown.granted_at), last_day=shown.last_day)


async def record(db: AsyncSession, *, principal_id: int, delegation_id: int, signer_person_id: int,
                 document_sha256: str, actor: str) -> RepresentationAuthorisation:
    """Keep the signed authorisation; ``Conflict`` if signed already or no longer in force."""
    await evidence.lock(db, party_chain(principal_id))
    shown = await delegations.delegation(db, principal_id, delegation_id)
    if shown.status != delegations.IN_FORCE:
        raise Conflict(code="delegation_not_in_force")
    if await of_delegation(db, delegation_id) is not None:
        raise Conflict(code="authorisation_already_signed")
    now = await database_now(db)
    event = await evidence.append(db, chain=party_chain(principal_id), kind=SIGNED, actor=actor,
                                  occurred_at=now, payload={"representation": delegation_id,
                                                            "document_sha256": document_sha256,
                                                            "signed_by": signer_person_id})
    row = RepresentationAuthorisation(representation_id=delegation_id,
                                      signed_by_person_id=signer_person_id,
                                      document_sha256=document_sha256, signed_at=now,
                                      event_hash=event.hash)
    db.add(row)
    await db.flush()
    return row


async def of_delegation(db: AsyncSession, representation_id: int) -> RepresentationAuthorisation | None:
    return await db.scalar(select(RepresentationAuthorisation).where(
        RepresentationAuthorisation.representation_id == representation_id))


@dataclass(frozen=True)
class Representative:
    """Someone who may act now for a party of the case, as the agency sees them."""

    party_index: int
    representation_id: int
    name: str
    id_number: str
    source: str
    since: datetime
    last_day: date | None
    authorisation: RepresentationAuthorisation | None


async def representatives(db: AsyncSession, case: Case) -> list[Representative]:
    """Who may act for each party of ``case`` now (module docstring), party by party."""
    found = []
    now = utcnow()
    for index, party in enumerate(await cases.parties(db, case)):
        rows = (await db.execute(
            select(Representation, Party, RepresentationAuthorisation)
            .join(Party, Party.id == Representation.agent_id)
            .outerjoin(RepresentationAuthorisation,
                       RepresentationAuthorisation.representation_id == Representation.id)
            .where(Representation.principal_id == party.id, Representation.scope == SCOPE_FULL,
                   in_force(now))
            .order_by(Representation.granted_at, Representation.id))).all()
        for representation, agent, signed in rows:
            view = delegations.view_of(representation, agent, now)
            found.append(Representative(index, representation.id, agent.name, agent.id_number or "",
                                        representation.source, representation.granted_at,
                                        view.last_day, signed))
    return found


async def document_for_agency(db: AsyncSession, case: Case, representation_id: int) -> str:
    """The SHA-256 of the signed authorisation of one of ``case``'s representatives now."""
    for representative in await representatives(db, case):
        if representative.representation_id == representation_id and representative.authorisation:
            return representative.authorisation.document_sha256
    raise NotFound()
