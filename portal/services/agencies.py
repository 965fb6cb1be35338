"""Agencies and their API clients: creation and revocation by the operator, the credentials the
token endpoint checks, and what an agency may see of its own clients.

Client secrets are shown once, at creation, and stored only as SHA-256 digests; comparison is
constant-time. An agency created twice under the same name is the same agency with a second
client, so an operator can rotate credentials without touching its data, then revoke the old
client: its tokens stop working at once (``services.api_tokens`` checks the client each time).

An agency's unified social credit code is what its seals are matched by
(``portal.eservice.seals``). It is recorded once and never changed: a different code is a
different legal person, hence a different agency, and one code belongs to one agency only.
Refusals are ``AgencyRefused`` with a code the CLI turns into its message.

The token endpoint runs authlib, which is synchronous, so the credentials are loaded first
(``load_credentials``) and compared afterwards without the database (``secret_matches``).
What an agency reads about its clients is a ``ClientView``, which has no secret in it, and is
always filtered by the agency asking: another agency's client is ``NotFound``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.errors import NotFound
from portal.identifiers import is_valid_credit_code, normalise_credit_code
from portal.models import Agency, ApiClient

log = logging.getLogger("portal.agencies")

# Printable ASCII up to the column's width: anything else cannot be a client id, and a NUL
# byte would be a driver error on PostgreSQL rather than "no such client".
_CLIENT_ID_SHAPE = re.compile(r"[\x21-\x7e]{1,64}")
_NO_SECRET = "0" * 64  # compared against when there is no client, so the work is the same


class AgencyRefused(ValueError):
    """An agency cannot be created or identified as asked; ``code`` says why:
    ``invalid_name``, ``invalid_credit_code``, ``credit_code_taken`` (another agency has it),
    ``credit_code_differs`` (this agency has another), ``unknown_agency``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewClient:
    agency_id: int
    agency_name: str
    client_id: str
    client_secret: str
    credit_code: str | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def get_or_create_agency(db: AsyncSession, name: str, credit_code: str | None = None) -> Agency:
    """The agency of this name, created if new; ``credit_code`` is recorded on it if given."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AgencyRefused("invalid_name")
    agency = (await db.execute(select(Agency).where(Agency.name == name))).scalar_one_or_none()
    if agency is None:
        agency = Agency(name=name, created_at=utcnow())
        db.add(agency)
    if credit_code is not None:
        await _record_credit_code(db, agency, credit_code)
    await db.flush()
    return agency


async def exists(db: AsyncSession, name: str) -> bool:
    return (await db.execute(select(Agency.id).where(Agency.name == name.strip()))).first() is not None


async def record_credit_code(db: AsyncSession, name: str, credit_code: str) -> Agency:
    """Record the credit code of an existing agency (one created before codes were kept)."""
    agency = (await db.execute(select(Agency).where(Agency.name == name.strip()))).scalar_one_or_none()
    if agency is None:
        raise AgencyRefused("unknown_agency")
    await _record_credit_code(db, agency, credit_code)
    await db.flush()
    return agency


async def _record_credit_code(db: AsyncSession, agency: Agency, credit_code: str) -> None:
    code = normalise_credit_code(credit_code)
    if not is_valid_credit_code(code):
        raise AgencyRefused("invalid_credit_code")
    if agency.credit_code is not None:
        if agency.credit_code != code:
            raise AgencyRefused("credit_code_differs")
        return
    holder = (await db.execute(select(Agency.id).where(Agency.credit_code == code))).scalar_one_or_none()
    if holder is not None:
        raise AgencyRefused("credit_code_taken")
    agency.credit_code = code


async def create_client(db: AsyncSession, agency_name: str, credit_code: str | None = None) -> NewClient:
    agency = await get_or_create_agency(db, agency_name, credit_code)
    client_id = "ag_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    db.add(ApiClient(client_id=client_id, secret_hash=digest(secret), agency_id=agency.id,
                     created_at=utcnow()))
    await db.flush()
    return NewClient(agency.id, agency.name, client_id, secret, agency.credit_code)


@dataclass(frozen=True)
class ClientCredentials:
    """What the token endpoint needs to authenticate a client, loaded before authlib runs."""

    client_id: str
    agency_id: int
    secret_hash: str = field(repr=False)
    revoked: bool


@dataclass(frozen=True)
class ClientView:
    """An API client as its own agency sees it: never the secret or its digest."""

    client_id: str
    created_at: datetime
    revoked_at: datetime | None


async def load_credentials(db: AsyncSession, client_id: str) -> ClientCredentials | None:
    if not _CLIENT_ID_SHAPE.fullmatch(client_id):
        return None
    client = await db.get(ApiClient, client_id)
    if client is None:
        return None
    return ClientCredentials(client.client_id, client.agency_id, client.secret_hash,
                             revoked=client.revoked_at is not None)


def secret_matches(credentials: ClientCredentials | None, secret: str) -> bool:
    """True only for a live client and its secret; the same work is done for an unknown or
    revoked client, so timing does not tell which client ids exist."""
    expected = credentials.secret_hash if credentials else _NO_SECRET
    ok = hmac.compare_digest(expected, digest(secret))
    return ok and credentials is not None and not credentials.revoked


async def revoke_client(db: AsyncSession, client_id: str) -> ClientView | None:
    """Revoke a client (idempotent: the first revocation time stays); None if there is none."""
    client = await db.get(ApiClient, client_id)
    if client is None:
        return None
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        await db.flush()
    return _view(client)


async def list_clients(db: AsyncSession, agency_id: int) -> list[ClientView]:
    rows = await db.execute(select(ApiClient).where(ApiClient.agency_id == agency_id)
                            .order_by(ApiClient.created_at, ApiClient.client_id))
    return [_view(client) for client in rows.scalars()]


async def agency_client(db: AsyncSession, agency_id: int, client_id: str) -> ClientView:
    """One of the agency's own clients; another agency's client does not exist for it.

    Asking for another agency's client is answered like a missing one but logged: it is a
    refused authorisation, and a pattern of them is an agency probing (ASVS v5.0.0-16.3.2).
    """
    client = await db.get(ApiClient, client_id) if _CLIENT_ID_SHAPE.fullmatch(client_id) else None
    if client is not None and client.agency_id != agency_id:
        log.warning("foreign object refused", extra={"action": "read_api_client",
                                                     "object": client_id, "agency_id": agency_id})
        client = None
    if client is None:
        raise NotFound()
    return _view(client)


def _view(client: ApiClient) -> ClientView:
    return ClientView(client.client_id, client.created_at, client.revoked_at)
