"""Agencies' webhook registrations: where new submissions are POSTed, and the signing secret.

One URL per agency. Registering (again) generates a new secret, returned to the caller once and
stored only encrypted (AES-GCM under a key derived from the portal's ``SECRET_KEY``, bound to
the agency's id), so a copy of the database alone cannot forge deliveries; the worker decrypts
it to sign (``portal.webhooks`` documents the signature). The URL must be ``https://``: the
body names parties. Plain ``http://`` is accepted for ``127.0.0.1`` only, for tests and a
receiver on the same host. Credentials in the URL and fragments are refused, and so are
addresses no agency's receiver has (``_UNREACHABLE_HOST``): the portal's worker would otherwise
POST on an agency's word to the cloud metadata service (169.254.169.254), to a multicast group
or to itself over https. Private networks stay allowed: a province's government extranet
numbers its hosts there. A name is checked again before every POST (``destination_refused``):
registered while it pointed outside, it may later resolve to such an address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import fields
from portal.database import database_now
from portal.errors import Unprocessable
from portal.models.rights import AgencyWebhook

MAX_URL_LENGTH = 500
_NONCE_BYTES = 12


@dataclass(frozen=True)
class Registered:
    """What registering answers: the URL, when, and the secret (shown this once)."""

    url: str
    registered_at: datetime
    secret: str


def checked_url(url: object) -> str:
    """The URL if an agency may register it, else ``Unprocessable("webhook_url_invalid")``."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH or not url.isascii() \
            or fields.refused_character(url) is not None:  # urlsplit would drop a tab or line feed
        raise Unprocessable("webhook_url_invalid")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a malformed port
    except ValueError:
        raise Unprocessable("webhook_url_invalid") from None
    secure = parts.scheme == "https" and bool(parts.hostname)
    loopback = parts.scheme == "http" and parts.hostname == "127.0.0.1"
    if not (secure or loopback) or parts.username or parts.password or parts.fragment \
            or (port is not None and not 0 < port < 65536) or (secure and _unreachable(parts.hostname)):
        raise Unprocessable("webhook_url_invalid")
    return url


Resolver = Callable[[str], Awaitable[list[str]]]
"""A host name to its addresses (the system's resolver; tests give their own)."""


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def destination_refused(url: str, resolve: Resolver = system_resolver) -> bool:
    """Whether the registered ``url``'s host now resolves to an address no receiver has.
    A name that does not resolve is not refused here: the POST fails and is retried as for
    any unreachable receiver."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return False  # plain http is only ever the loopback receiver (``checked_url``)
    try:
        addresses = await resolve(parts.hostname)
    except OSError:
        return False
    return any(_unreachable(address.split("%", 1)[0]) for address in addresses)


def _unreachable(host: str | None) -> bool:
    """A host name or address literal that names no agency's receiver."""
    name = (host or "").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: resolved by the worker's HTTP client when it posts
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved)


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"portal webhook secrets", hashlib.sha256).digest()


def _associated(agency_id: int) -> bytes:
    return f"agency:{agency_id}".encode()


def encrypt_secret(secret_key: str, agency_id: int, secret: str) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), _associated(agency_id))


def decrypt_secret(secret_key: str, agency_id: int, stored: bytes) -> str:
    nonce, sealed = stored[:_NONCE_BYTES], stored[_NONCE_BYTES:]
    return AESGCM(_key(secret_key)).decrypt(nonce, sealed, _associated(agency_id)).decode()


async def registration(db: AsyncSession, agency_id: int) -> AgencyWebhook | None:
    return (await db.execute(select(AgencyWebhook).where(
        AgencyWebhook.agency_id == agency_id))).scalar_one_or_none()


async def register(db: AsyncSession, agency_id: int, url: object, *, secret_key: str) -> Registered:
    """Register (or replace) the agency's webhook; a new secret every time."""
    checked = checked_url(url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = await database_now(db)
    stored = encrypt_secret(secret_key, agency_id, secret)
    row = await registration(db, agency_id)
    if row is None:
        db.add(AgencyWebhook(agency_id=agency_id, url=checked, secret_encrypted=stored,
                             registered_at=now))
    else:
        row.url, row.secret_encrypted, row.registered_at = checked, stored, now
    await db.flush()
    return Registered(checked, now, secret)
