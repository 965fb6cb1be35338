"""What the portal trusts, and the pyhanko validation context built from it.

Signing at B-LT and verifying both need a ``ValidationContext``: the trust roots, how strictly
revocation must be checked, and where revocation information comes from. ``TrustSettings`` is
the one frozen, picklable description of that (it crosses into the verification worker
process); ``validation_context()`` turns it into a fresh context per operation, because a
context accumulates fetched CRLs/OCSP responses and must not be shared between documents (what
nothing writes to — the parsed roots and intermediates, the trust manager indexing the roots —
is built once per process and shared). In production the roots come from a configured folder
of certificates (``load_trust_roots``).

Revocation sources: in production the CRL and OCSP addresses inside the certificates are
fetched over HTTP (pyhanko-certvalidator's aiohttp fetchers, which bound the number of
requests), only from allow-listed hosts and never an issuer certificate (``signing.fetching``:
an uploaded file must not choose what the worker requests); with ``dev_pki_dir`` set they
are answered in-process by ``signing.dev_responder`` from the development PKI, so tests and
``make run`` never touch the network.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import crl, ocsp, pem
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing.errors import ConfigurationError
from signing.fetching import allow_listed, named_hosts
from signing.sm2 import GmSignatureValidator

__all__ = ["RevocationMode", "TrustSettings", "load_trust_roots"]


class RevocationMode(enum.StrEnum):
    """How hard the validator insists on revocation information (pyhanko-certvalidator terms)."""

    SOFT_FAIL = "soft-fail"
    """Revocation information that cannot be obtained is ignored."""
    HARD_FAIL = "hard-fail"
    """A certificate that names a CRL or OCSP responder must be checked against it."""
    REQUIRE = "require"
    """Every certificate in the path must have revocation information."""


@dataclass(frozen=True)
class TrustSettings:
    """Trust anchors and revocation policy for signing (B-LT) and verification."""

    trust_roots: tuple[bytes, ...]
    """DER-encoded root certificates; see ``signing.keys.load_trust_roots`` for a folder."""

    revocation_mode: RevocationMode = RevocationMode.HARD_FAIL

    intermediate_certs: tuple[bytes, ...] = ()
    """DER CA certificates below the roots, offered for path building but never trusted by
    themselves: a GB/T 38540 seal carries only the signer's and the maker's certificates."""

    fetch_online: bool = True
    """Fetch CRLs and OCSP responses from the addresses in the certificates (production)."""

    dev_pki_dir: Path | None = None
    """Answer revocation requests from this development PKI directory instead (offline)."""

    revocation_hosts: tuple[str, ...] = ()
    """Hosts OCSP and CRL requests may go to, besides those the roots and intermediates name
    (``signing.fetching``)."""

    def __post_init__(self) -> None:
        if not self.trust_roots:
            raise ConfigurationError("at least one trust root is needed")

    def root_certificates(self) -> list[asn1_x509.Certificate]:
        return list(_anchors(self.trust_roots, self.intermediate_certs).roots)

    def validation_context(
        self,
        *,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        crls: Iterable[crl.CertificateList] = (),
        ocsps: Iterable[ocsp.OCSPResponse] = (),
    ) -> ValidationContext:
        """A fresh context; callers ``await context.aclose()`` when done (network sessions)."""
        fetchers, backend = None, None
        anchors = _anchors(self.trust_roots, self.intermediate_certs)
        if self.dev_pki_dir is not None:
            from signing.dev_responder import dev_fetchers

            fetchers = dev_fetchers(self.dev_pki_dir)
        elif self.fetch_online:
            backend = AIOHttpFetcherBackend()
            hosts = anchors.hosts | {host.lower() for host in self.revocation_hosts}
            fetchers = allow_listed(backend.get_fetchers(), hosts)
        return ValidationContext(
            trust_manager=anchors.trust_manager,
            other_certs=[*anchors.intermediates, *other_certs],
            crls=list(crls),
            ocsps=list(ocsps),
            allow_fetching=fetchers is not None,
            fetchers=fetchers,
            fetcher_backend=OwnedFetcherBackend(backend) if backend is not None else None,
            revocation_mode=str(self.revocation_mode),
            signature_validator=GmSignatureValidator(),
        )


@dataclass(frozen=True)
class _Anchors:
    """The parsed trust roots and intermediates of one ``TrustSettings``, read-only."""

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...]
    trust_manager: SimpleTrustManager
    hosts: frozenset[str]
    """The hosts the roots and intermediates name (``signing.fetching.named_hosts``)."""


@functools.lru_cache(maxsize=8)
def _anchors(trust_roots: tuple[bytes, ...], intermediate_certs: tuple[bytes, ...]) -> _Anchors:
    """Parsed once per process and shared by every context: parsing the roots, indexing them
    and hashing their names cost a PAdES verification about 1 ms each time. Sharing is
    safe because nothing writes to them: a ``SimpleTrustManager`` is complete once built,
    and what a context learns (fetched CRLs, certificates) goes to its own registry."""
    try:
        roots = tuple(asn1_x509.Certificate.load(der) for der in trust_roots)
    except ValueError as exc:
        raise ConfigurationError("a trust root is not a DER certificate") from exc
    intermediates = tuple(asn1_x509.Certificate.load(der) for der in intermediate_certs)
    return _Anchors(roots, intermediates, SimpleTrustManager.build(trust_roots=roots),
                    named_hosts([*roots, *intermediates]))


def load_trust_roots(folder: Path) -> tuple[bytes, ...]:
    """DER certificates from every ``.pem``, ``.crt``, ``.cer`` and ``.der`` file in ``folder``
    (SM2 roots too: asn1crypto reads them; ``cryptography`` cannot load an SM2 key)."""
    roots: list[bytes] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.suffix.lower() not in {".pem", ".crt", ".cer", ".der"}:
            continue
        data = path.read_bytes()
        try:
            ders = (
                [bytes(der) for _kind, _headers, der in pem.unarmor(data, multiple=True)]
                if pem.detect(data)
                else [data]
            )
            roots.extend(_certificate_der(der) for der in ders)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"trust root file {path.name} is not a certificate") from exc
    if not roots:
        raise ConfigurationError(f"no trust root certificates found in {folder}")
    return tuple(roots)


def _certificate_der(der: bytes) -> bytes:
    """``der`` if it parses as one certificate with a subject and a public key."""
    cert = asn1_x509.Certificate.load(der, strict=True)
    if not cert.subject.contents or not cert.public_key.contents:
        raise ValueError("certificate without subject or key")
    return cert.dump()
