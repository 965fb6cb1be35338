"""Delegation: a party lets another person read its mailbox, or act for it, until a date.

A person (or an organisation, through the agent the identity provider vouches for) names the
delegate by name and resident ID number, a scope (``mailbox``: read the mailbox, download
documents and receipts; ``full``: also act — consent, paper copies, and later statements,
hearing requests and payments) and the last day it is in force (24:00 China time; at most
three years ahead). The delegate may then switch to act for the party.

Granting and revoking are legal acts: each appends an event to the principal's evidence
chain (``party:<id>``) in the caller's transaction, under the chain's lock, so they are
ordered against every other act on that party. The evidence chain is the record; the
``representations`` row (``revoked_at``, ``ends_at``, ``scope``) is the index that the access
check of every request (``acting_scope``) queries. Only the party themself, or an agent of
an organisation asserted by the identity provider, may manage delegations (``may_manage``):
a delegate cannot delegate further. A foreign or unknown delegation id is ``NotFound``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import fields
from portal.database import database_now, utcnow
from portal.errors import NotFound, ValidationFailed
from portal.identifiers import is_valid_id_number, masked_identifier, normalise_id_number
from portal.legal_calendar import china_date, end_of_china_day_utc
from portal.models.parties import Party, Representation
from portal.services import evidence
from portal.services.consent import party_chain
from portal.services.identity import IDP_SOURCE, find_or_create_party, in_force
from portal.vocabulary import PERSON, SCOPE_FULL, SCOPE_MAILBOX, SCOPES

DELEGATION_SOURCE = "delegation"
MAX_YEARS = 3
MAX_NAME = 50

IN_FORCE, ENDED, REVOKED = "in_force", "ended", "revoked"


@dataclass(frozen=True)
class Delegation:
    """What a page shows of one representation: never the full ID number."""

    id: int
    agent_id: int
    agent_name: str
    agent_masked_id: str
    source: str
    scope: str
    granted_at: datetime
    last_day: date | None
    revoked_at: datetime | None
    status: str

    @property
    def revocable(self) -> bool:
        """Delegations can be revoked here; the identity provider's agents only at the provider."""
        return self.source == DELEGATION_SOURCE and self.status == IN_FORCE


def latest_last_day(today: date) -> date:
    """Three years from today (29 February becomes 28 February)."""
    try:
        return today.replace(year=today.year + MAX_YEARS)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS, day=28)


def check_request(name: str, id_number: str, scope: str, last_day: date | None,
                  today: date) -> dict[str, str]:
    """The problems of a grant request, by form field (codes; the words are the page's)."""
    errors: dict[str, str] = {}
    try:
        fields.text(name, limit=MAX_NAME)
    except fields.FieldError as refused:
        errors["delegate_name"] = refused.code
    if not is_valid_id_number(id_number):
        errors["delegate_id_number"] = "invalid_id_number"
    if scope not in SCOPES:
        errors["scope"] = "required"
    if last_day is None:
        errors["last_day"] = "invalid_date"
    elif last_day < today:
        errors["last_day"] = "last_day_past"
    elif last_day > latest_last_day(today):
        errors["last_day"] = "last_day_too_far"
    return errors


def _status(row: Representation, now: datetime) -> str:
    if row.revoked_at is not None:
        return REVOKED
    if row.ends_at is not None and row.ends_at <= now:
        return ENDED
    return IN_FORCE


def view_of(row: Representation, agent: Party, now: datetime) -> Delegation:
    # ends_at is 24:00 China time of the last day, i.e. 00:00 of the day after
    last_day = china_date(row.ends_at) - timedelta(days=1) if row.ends_at else None
    return Delegation(row.id, agent.id, agent.name, masked_identifier(agent.id_number),
                      row.source, row.scope, row.granted_at, last_day, row.revoked_at,
                      _status(row, now))


async def grant(db: AsyncSession, *, principal_id: int, delegate_name: str,
                delegate_id_number: str, scope: str, last_day: date | None,
                granted_by_person_id: int, actor: str) -> Delegation:
    """Record a delegation, or ``ValidationFailed`` with a code per form field.

    The delegate is found (or created, as an agency's case would) by ID number; a name that
    differs from the one on record is refused rather than trusted, so a mistyped number that
    passes the check character does not hand the mailbox to a stranger.
    """
    name = delegate_name.strip()
    id_number = normalise_id_number(delegate_id_number)
    errors = check_request(name, id_number, scope, last_day, china_date(utcnow()))
    if errors or last_day is None:
        raise ValidationFailed(errors)
    chain = party_chain(principal_id)
    await evidence.lock(db, chain)
    agent = await find_or_create_party(db, PERSON, name, id_number, rename=False)
    if agent.name != name:
        raise ValidationFailed({"delegate_name": "name_mismatch"})
    if agent.id in (principal_id, granted_by_person_id):
        raise ValidationFailed({"delegate_id_number": "delegate_self"})
    now = await database_now(db)  # read under the lock: event times in a chain never go back
    current = (await db.execute(select(Representation.id).where(
        Representation.principal_id == principal_id, Representation.agent_id == agent.id,
        Representation.source == DELEGATION_SOURCE, in_force(now)))).first()
    if current is not None:
        raise ValidationFailed({"delegate_id_number": "already_delegated"})
    row = Representation(principal_id=principal_id, agent_id=agent.id, source=DELEGATION_SOURCE,
                         scope=scope, granted_by_person_id=granted_by_person_id, granted_at=now,
                         ends_at=end_of_china_day_utc(last_day))
    db.add(row)
    await db.flush()
    await evidence.append(db, chain=chain, kind="delegation_granted", actor=actor, occurred_at=now,
                          payload={"representation": row.id, "agent": agent.id, "scope": scope,
                                   "last_day": last_day.isoformat(),
                                   "ends_at": row.ends_at.isoformat() if row.ends_at else None,
                                   "granted_by": granted_by_person_id})
    return view_of(row, agent, now)


async def revoke(db: AsyncSession, *, principal_id: int, delegation_id: int,
                 actor: str) -> Delegation:
    """End a delegation of this principal now; one already ended or revoked stays as it is."""
    chain = party_chain(principal_id)
    await evidence.lock(db, chain)
    row, agent = await _own(db, principal_id, delegation_id)
    now = await database_now(db)
    if _status(row, now) == IN_FORCE:
        event = await evidence.append(db, chain=chain, kind="delegation_revoked", actor=actor,
                                      occurred_at=now,
                                      payload={"representation": row.id, "agent": agent.id})
        row.revoked_at = event.occurred_at
        await db.flush()
    return view_of(row, agent, now)


async def _own(db: AsyncSession, principal_id: int,
               delegation_id: int) -> tuple[Representation, Party]:
    found = (await db.execute(
        select(Representation, Party).join(Party, Party.id == Representation.agent_id)
        .where(Representation.id == delegation_id, Representation.principal_id == principal_id,
               Representation.source == DELEGATION_SOURCE))).first()
    if found is None:
        raise NotFound()
    return found[0], found[1]


async def delegation(db: AsyncSession, principal_id: int, delegation_id: int) -> Delegation:
    row, agent = await _own(db, principal_id, delegation_id)
    return view_of(row, agent, utcnow())


async def delegations(db: AsyncSession, principal_id: int) -> list[Delegation]:
    """Everyone who may act, or could act, for the principal: newest first."""
    rows = (await db.execute(
        select(Representation, Party).join(Party, Party.id == Representation.agent_id)
        .where(Representation.principal_id == principal_id)
        .order_by(Representation.granted_at.desc(), Representation.id.desc()))).all()
    now = utcnow()
    return [view_of(row, agent, now) for row, agent in rows]


async def acting_scopes(db: AsyncSession, person_id: int) -> dict[int, str]:
    """Party id → what the person may do for it now (the person themself: ``full``)."""
    rows = (await db.execute(
        select(Representation.principal_id, Representation.scope)
        .where(Representation.agent_id == person_id, in_force(utcnow())))).all()
    scopes = {person_id: SCOPE_FULL}
    for party_id, scope in rows:
        if scopes.get(party_id) != SCOPE_FULL:  # several in force: the widest counts
            scopes[party_id] = scope
    return scopes


async def acting_scope(db: AsyncSession, person_id: int, party_id: int) -> str | None:
    """What the person may do for the party now: ``full``, ``mailbox``, or None (nothing)."""
    if person_id == party_id:
        return SCOPE_FULL
    scopes = set((await db.execute(
        select(Representation.scope).where(Representation.agent_id == person_id,
                                           Representation.principal_id == party_id,
                                           in_force(utcnow())))).scalars())
    if SCOPE_FULL in scopes:
        return SCOPE_FULL
    return SCOPE_MAILBOX if scopes else None


async def may_manage(db: AsyncSession, person_id: int, party_id: int) -> bool:
    """Only the party themself, or an organisation's agent vouched for by the identity
    provider, grants and revokes: a delegate cannot pass the party's trust on."""
    if person_id == party_id:
        return True
    return (await db.execute(select(Representation.id).where(
        Representation.agent_id == person_id, Representation.principal_id == party_id,
        Representation.source == IDP_SOURCE, in_force(utcnow())))).first() is not None
