"""Who logged in, and whom they may act for: from verified ID-token claims to parties.

The identity provider has already authenticated the person; this records the login account
(issuer, subject), the natural person (by ID number), and, for a legal-person login, the
organisation (by credit code) and the agent's right to act for it as asserted by the
provider. Claims are validated here (check characters) because they become the keys agencies
use to name parties. Whom a logged-in person may act for is answered here too, from the
representations in force, so a page can never switch to a party by id alone (ASVS
v5.0.0-8.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import insert_ignoring, utcnow
from portal.errors import BadRequest, NotFound
from portal.identifiers import (
    is_valid_credit_code,
    is_valid_id_number,
    normalise_credit_code,
    normalise_id_number,
)
from portal.models import Account, Party, Representation
from portal.vocabulary import ORGANISATION, PERSON, SCOPE_FULL

IDP_SOURCE = "identity_provider"


@dataclass(frozen=True)
class ActingParty:
    id: int
    kind: str
    name: str


@dataclass(frozen=True)
class LoginResult:
    account_id: int
    person: ActingParty
    organisations: tuple[ActingParty, ...]

    def session_user(self, acting: ActingParty | None = None) -> dict[str, Any]:
        """What the browser session keeps: internal ids and display names, no ID numbers."""
        acting = acting or (self.organisations[0] if self.organisations else self.person)
        return {
            "account_id": self.account_id,
            "person_id": self.person.id,
            "name": self.person.name,
            "acting_party_id": acting.id,
            "acting_kind": acting.kind,
            "acting_name": acting.name,
        }


async def find_or_create_party(db: AsyncSession, kind: str, name: str, key: str, *,
                               rename: bool) -> Party:
    """The party with this (normalised, already checked) ID number or credit code, created
    if new: the one way parties come into being, from a login or from an agency's case.

    Concurrent creators do not collide (insert-or-ignore on the unique identifier, then read).
    ``rename`` says whether ``name`` is authoritative: the identity provider's verified name
    is (names change: marriage, renaming; the identifier does not), an agency's spelling in a
    case is not and never overwrites it.
    """
    column = Party.id_number if kind == PERSON else Party.credit_code
    await db.execute(insert_ignoring(db, Party, [column.key]).values(
        kind=kind, name=name, created_at=utcnow(),
        id_number=key if kind == PERSON else None,
        credit_code=key if kind == ORGANISATION else None,
    ))
    party = (await db.execute(select(Party).where(column == key))).scalar_one()
    if rename and party.name != name:
        party.name = name
    return party


async def record_login(db: AsyncSession, issuer: str, claims: dict[str, Any]) -> LoginResult:
    subject = str(claims.get("sub", ""))
    name = str(claims.get("name", "")).strip()
    id_number = normalise_id_number(str(claims.get("id_number", "")))
    if not subject or not name or not is_valid_id_number(id_number):
        raise BadRequest(code="login_failed", detail="身份认证服务未提供有效的姓名和公民身份号码")
    person = await find_or_create_party(db, PERSON, name, id_number, rename=True)
    now = utcnow()
    account = (await db.execute(select(Account).where(
        Account.issuer == issuer, Account.subject == subject))).scalar_one_or_none()
    if account is None:
        account = Account(issuer=issuer, subject=subject, person_id=person.id, created_at=now,
                          last_login_at=now)
        db.add(account)
    elif account.person_id != person.id:
        raise BadRequest(code="login_failed", detail="该账户与身份信息不一致")
    else:
        account.last_login_at = now
    organisations: list[ActingParty] = []
    credit_code = normalise_credit_code(str(claims.get("org_credit_code", "")))
    org_name = str(claims.get("org_name", "")).strip()
    if credit_code and org_name:
        if not is_valid_credit_code(credit_code):
            raise BadRequest(code="login_failed", detail="身份认证服务提供的统一社会信用代码无效")
        organisation = await find_or_create_party(db, ORGANISATION, org_name, credit_code,
                                                  rename=True)
        await _ensure_representation(db, organisation.id, person.id)
        organisations.append(ActingParty(organisation.id, ORGANISATION, organisation.name))
    await db.flush()
    return LoginResult(account.id, ActingParty(person.id, PERSON, person.name), tuple(organisations))


async def _ensure_representation(db: AsyncSession, principal_id: int, agent_id: int) -> None:
    existing = (await db.execute(select(Representation).where(
        Representation.principal_id == principal_id,
        Representation.agent_id == agent_id,
        Representation.source == IDP_SOURCE,
        Representation.revoked_at.is_(None),
    ))).scalars().first()
    if existing is None:
        db.add(Representation(principal_id=principal_id, agent_id=agent_id, source=IDP_SOURCE,
                              scope=SCOPE_FULL, granted_at=utcnow()))


def in_force(now: datetime) -> ColumnElement[bool]:
    """The representations in force at ``now``: granted, not revoked, not yet ended. The one
    definition every access check uses (switching, and the re-check on each request)."""
    return and_(Representation.revoked_at.is_(None),
                Representation.granted_at <= now,
                or_(Representation.ends_at.is_(None), Representation.ends_at > now))


async def acting_parties(db: AsyncSession, person_id: int) -> tuple[ActingParty, ...]:
    """The person themself, then every party they represent today, by name."""
    person = await db.get(Party, person_id)
    if person is None:
        return ()
    principals = (await db.execute(
        select(Party)
        .join(Representation, Representation.principal_id == Party.id)
        .where(Representation.agent_id == person_id, in_force(utcnow()))
        .order_by(Party.name, Party.id)
    )).scalars().all()
    parties = [ActingParty(person.id, person.kind, person.name)]
    for party in principals:
        if all(party.id != known.id for known in parties):
            parties.append(ActingParty(party.id, party.kind, party.name))
    return tuple(parties)


async def acting_party(db: AsyncSession, person_id: int, party_id: int) -> ActingParty:
    """``party_id`` if the person may act for it now; otherwise NotFound, as for any foreign id."""
    for party in await acting_parties(db, person_id):
        if party.id == party_id:
            return party
    raise NotFound()
