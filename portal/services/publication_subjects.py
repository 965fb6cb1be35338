"""Whom a published item concerns, recognised without being kept: who may object to it.

A person may object to what is published about them (数据异议, GD art. 49; FJ art. 15; PIPL art.
46), but the public record names people only masked (张*), and the portal keeps no ID number of
a published person (``publicity.ingest``). So when an agency publishes, it may name the
party's identifier (a person's ID number; an organisation's credit code is public anyway) and
the ID numbers of other persons the texts name, and the portal keeps of each only a keyed
digest per version (``PublicationSubject``): HMAC-SHA256 under a key derived from the portal's
secret, so a copy of the table cannot be matched against the 10^8-odd possible ID numbers of a
region without the key. A logged-in party is recognised by the same digest of its own
identifier (``concerns``).

A party of the agency's case with the same case number is concerned as well: the item
publishes that case. Nothing else is: an item that names a person without their ID number
lets that person object through the agency, which the objection page says.

Rotating ``SECRET_KEY`` ends the recognition of items published before (their digests no
longer match): they can still be objected to through the agency.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.cases import Case, CaseParty
from portal.models.parties import Party
from portal.models.publicity import Publication, PublicationSubject
from portal.vocabulary import PERSON

PARTY, NAMED = "party", "named"


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"portal publication subjects", hashlib.sha256).digest()


def digest(secret_key: str, kind: str, identifier: str) -> str:
    """The keyed digest of a person's ID number or an organisation's credit code."""
    return hmac.new(_key(secret_key), f"{kind}:{identifier.upper()}".encode(), hashlib.sha256).hexdigest()


def of(secret_key: str, concerned: Iterable[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(role, digest) of whom an agency's submission concerns (``ingest.Submission.concerned``)."""
    return [(role, digest(secret_key, kind, identifier)) for role, kind, identifier in concerned]


async def record(db: AsyncSession, publication_id: int, version: int,
                 subjects: Iterable[tuple[str, str]]) -> None:
    """Keep ``subjects`` ((role, digest) pairs) for the version; a digest once per version."""
    seen: set[str] = set()
    for role, value in subjects:
        if value not in seen:
            seen.add(value)
            db.add(PublicationSubject(publication_id=publication_id, version=version, role=role,
                                      digest=value))
    await db.flush()


async def carry(db: AsyncSession, publication_id: int, from_version: int, to_version: int) -> None:
    """The same persons for a version the portal made itself (``publications.remask``): the
    agency named nobody new."""
    rows = (await db.execute(select(PublicationSubject.role, PublicationSubject.digest).where(
        PublicationSubject.publication_id == publication_id,
        PublicationSubject.version == from_version))).all()
    await record(db, publication_id, to_version, [(row.role, row.digest) for row in rows])


async def concerns(db: AsyncSession, secret_key: str, item: Publication, party: Party) -> bool:
    """Whether the item's current version concerns ``party`` (module docstring)."""
    identifier = party.id_number if party.kind == PERSON else party.credit_code
    if identifier:
        found = await db.scalar(select(PublicationSubject.id).where(
            PublicationSubject.publication_id == item.id, PublicationSubject.version == item.version,
            PublicationSubject.digest == digest(secret_key, party.kind, identifier)))
        if found is not None:
            return True
    in_case = await db.scalar(
        select(CaseParty.id).join(Case, Case.id == CaseParty.case_id)
        .where(Case.agency_id == item.agency_id, Case.agency_case_number == item.agency_case_number,
               CaseParty.party_id == party.id))
    return in_case is not None
