"""Bearer tokens of the agency API: stored when the token endpoint issues them, checked on every
agency request.

A token is an opaque random string (256 bits from the CSPRNG, ASVS v5.0.0-11.5.1) that means
something only through its row in ``api_tokens``, where it is kept as a SHA-256 digest: a copy
of the database holds no working token. It works until ``expires_at`` and only while its client
is not revoked; the client is checked on every request, so ``portal agency revoke`` ends every
token of that client at once, without a token blacklist. There are no refresh tokens: under the
client credentials grant the agency simply asks for a new token.

Scopes: one, ``agency`` (the whole agency API, always limited to the agency's own data). Later
capabilities may add narrower scopes here; the token endpoint and the OpenAPI document read them
from ``SCOPES``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.models import Agency, ApiClient, ApiToken
from portal.services.agencies import digest

SCOPES: Mapping[str, str] = {
    "agency": "The agency API, limited to the calling agency's own data.",
}
DEFAULT_SCOPE = "agency"
TOKEN_LIFETIME = timedelta(hours=1)
_KEEP_EXPIRED = timedelta(days=1)

# RFC 6750 §2.1 b64token, bounded: a longer string was never issued here (43 characters are)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9\-._~+/]{16,256}=*")

Refusal = Literal["malformed", "unknown", "expired", "revoked"]


@dataclass(frozen=True)
class AgencyPrincipal:
    """Who is calling the agency API: an agency, through one of its clients, with a token."""

    agency_id: int
    agency_name: str
    agency_credit_code: str | None
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime

    @property
    def actor(self) -> str:
        """How the logs name this caller (no personal data: ids only)."""
        return f"agency:{self.agency_id}/client:{self.client_id}"


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    agency_id: int
    scope: str
    expires_at: datetime


def new_token_value() -> str:
    """A fresh access token: 32 bytes from ``secrets`` (the OS CSPRNG), URL-safe base64."""
    return secrets.token_urlsafe(32)


def granted_scope(requested: str | None) -> str | None:
    """The scope to grant for a request, or None if it asks for anything unknown.

    No scope asked for means the default (RFC 6749 §3.3 allows a pre-defined default).
    """
    wanted = (requested or "").split()
    if not wanted:
        return DEFAULT_SCOPE
    if any(scope not in SCOPES for scope in wanted):
        return None
    return " ".join(sorted(set(wanted)))


async def store_token(db: AsyncSession, value: str, *, client_id: str, agency_id: int,
                      scope: str, lifetime: timedelta = TOKEN_LIFETIME) -> IssuedToken:
    """Record an issued token (its digest only); the caller commits before handing it out.

    The client's tokens that expired over a day ago go at the same time, so the table stays
    small without a job; the recently expired stay, so a refusal can be logged as "expired".
    """
    now = utcnow()
    await db.execute(delete(ApiToken).where(ApiToken.client_id == client_id,
                                            ApiToken.expires_at < now - _KEEP_EXPIRED))
    row = ApiToken(token_hash=digest(value), client_id=client_id, agency_id=agency_id,
                   scope=scope, issued_at=now, expires_at=now + lifetime)
    db.add(row)
    await db.flush()
    return IssuedToken(client_id, agency_id, scope, row.expires_at)


async def check_token(db: AsyncSession, value: str) -> AgencyPrincipal | Refusal:
    """The caller behind a bearer token, or why the token does not count.

    The reasons are for the logs; the caller gets the same ``invalid_token`` for all of them.
    """
    if not _TOKEN_SHAPE.fullmatch(value):
        return "malformed"
    row = (await db.execute(
        select(ApiToken, ApiClient.revoked_at, Agency.name, Agency.credit_code)
        .join(ApiClient, ApiClient.client_id == ApiToken.client_id)
        .join(Agency, Agency.id == ApiToken.agency_id)
        .where(ApiToken.token_hash == digest(value))
    )).one_or_none()
    if row is None:
        return "unknown"
    token, revoked_at, agency_name, credit_code = row
    if revoked_at is not None:
        return "revoked"
    if token.expires_at <= utcnow():
        return "expired"
    return AgencyPrincipal(agency_id=token.agency_id, agency_name=agency_name,
                           agency_credit_code=credit_code, client_id=token.client_id,
                           scopes=frozenset(token.scope.split()), expires_at=token.expires_at)
