"""Agencies and their API clients: creation by the operator, authentication by the token endpoint.

Client secrets are shown once, at creation, and stored only as SHA-256 digests; comparison is
constant-time. An agency created twice under the same name is the same agency with a second
client, so an operator can rotate credentials without touching its data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.models import Agency, ApiClient


@dataclass(frozen=True)
class NewClient:
    agency_id: int
    agency_name: str
    client_id: str
    client_secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def get_or_create_agency(db: AsyncSession, name: str) -> Agency:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("agency name must be 1-200 characters")
    agency = (await db.execute(select(Agency).where(Agency.name == name))).scalar_one_or_none()
    if agency is None:
        agency = Agency(name=name, created_at=utcnow())
        db.add(agency)
        await db.flush()
    return agency


async def create_client(db: AsyncSession, agency_name: str) -> NewClient:
    agency = await get_or_create_agency(db, agency_name)
    client_id = "ag_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    db.add(ApiClient(client_id=client_id, secret_hash=digest(secret), agency_id=agency.id,
                     created_at=utcnow()))
    await db.flush()
    return NewClient(agency.id, agency.name, client_id, secret)


async def authenticate_client(db: AsyncSession, client_id: str, secret: str) -> ApiClient | None:
    """The client, if the id exists, is not revoked and the secret matches; else None."""
    client = await db.get(ApiClient, client_id)
    expected = client.secret_hash if client else digest("-")  # same work either way
    ok = hmac.compare_digest(expected, digest(secret))
    if client is None or client.revoked_at is not None or not ok:
        return None
    return client
