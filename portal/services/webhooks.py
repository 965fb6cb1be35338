"""Agencies' webhook registrations: where new submissions are POSTed, and the signing secret.

One URL per agency. Registering (again) generates a new secret, returned to the caller once and
stored only encrypted (AES-GCM under a key derived from the portal's ``SECRET_KEY``, bound to
the agency's id), so a copy of the database alone cannot forge deliveries; the worker decrypts
it to sign (``portal.webhooks`` documents the signature). The URL must be ``https://``: the
body names parties. Plain ``http://127.0.0.1`` is accepted in development mode only (tests and
a receiver on the same host). Credentials in the URL and fragments are refused, and so are
addresses no agency's receiver has (``_unreachable``): the portal's worker would otherwise POST
on an agency's word to a cloud metadata service (169.254.169.254, 100.100.100.200,
fd00:ec2::254), to a multicast group or to itself. Private networks stay allowed: a province's
government extranet numbers its hosts there (SECURITY.md "Deployment configuration", ASVS
v5.0.0-12.6.x: SSRF).

Before every POST the worker resolves the name once (``destination``), refuses it if any
address is one of those, and connects to the address it checked, with the name kept for the
``Host`` header and the TLS certificate check: a name that answers differently the second time
(DNS rebinding) cannot send the POST elsewhere.
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
from urllib.parse import urlsplit, urlunsplit

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


def registrable(url: object, *, development: bool) -> bool:
    """Whether an agency may register ``url``: ``https://`` to an outside address, or in
    development mode also ``http://127.0.0.1``."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH or not url.isascii() \
            or fields.refused_character(url) is not None:  # urlsplit would drop a tab or line feed
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a malformed port
    except ValueError:
        return False
    secure = parts.scheme == "https" and bool(parts.hostname) and not _unreachable(parts.hostname)
    loopback = development and parts.scheme == "http" and parts.hostname == "127.0.0.1"
    return ((secure or loopback) and not (parts.username or parts.password or parts.fragment)
            and (port is None or 0 < port < 65536))


def checked_url(url: object, *, development: bool) -> str:
    """The URL if an agency may register it, else ``Unprocessable("webhook_url_invalid")``."""
    if isinstance(url, str) and registrable(url, development=development):
        return url
    raise Unprocessable("webhook_url_invalid")


Resolver = Callable[[str], Awaitable[list[str]]]
"""A host name to its addresses (the system's resolver; tests give their own)."""


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class DestinationRefused(Exception):
    """The registered URL may not be posted to now (``str``: why, for the job's log)."""


@dataclass(frozen=True)
class Destination:
    """Where one POST goes: ``url`` names the checked address instead of the host name;
    ``host`` is the ``Host`` header and ``server_name`` the name the TLS certificate must
    carry (None over plain http)."""

    url: str
    host: str
    server_name: str | None


async def destination(url: str, *, development: bool,
                      resolve: Resolver = system_resolver) -> Destination:
    """Resolve the registered ``url`` once and check every address it gives; the POST then
    connects to the first one. ``DestinationRefused`` when production would not register the
    URL (loopback or plain http stored in development), when the name does not resolve (the
    POST is retried later, as for any unreachable receiver), or when it points inside."""
    if not registrable(url, development=development):
        raise DestinationRefused("url_refused")
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    try:
        addresses = [address.split("%", 1)[0] for address in await resolve(hostname)]
    except OSError:
        raise DestinationRefused("name_unresolved") from None
    loopback_allowed = development and parts.scheme == "http"
    if not addresses or any(_unreachable(address) and not loopback_allowed for address in addresses):
        raise DestinationRefused("address_refused")
    address = ipaddress.ip_address(addresses[0])
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host = f"{hostname}:{parts.port}" if parts.port else hostname
    return Destination(urlunsplit(parts._replace(netloc=netloc)), host,
                       hostname if parts.scheme == "https" else None)


_METADATA_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "100.100.0.0/16",   # Alibaba Cloud's internal services, metadata at 100.100.100.200
    "fd00:ec2::/32",    # AWS over IPv6 (metadata fd00:ec2::254, DNS fd00:ec2::253)
    "192.0.0.192/32",   # Oracle Cloud's metadata
))
"""Cloud providers' metadata and internal services outside the link-local range (169.254.0.0/16,
refused as link-local): an answer there hands out the host's credentials."""


def _unreachable(host: str | None) -> bool:
    """A host name or address literal that names no agency's receiver."""
    name = (host or "").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: checked again, resolved, before every POST (``destination``)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved
            or any(address in network for network in _METADATA_NETWORKS))


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


async def register(db: AsyncSession, agency_id: int, url: object, *, secret_key: str,
                   development: bool) -> Registered:
    """Register (or replace) the agency's webhook; a new secret every time."""
    checked = checked_url(url, development=development)
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
