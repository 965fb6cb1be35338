"""In-process OCSP responder and CRL distribution point of the development PKI.

Certificates of the development PKI name ``http://pki.dev.invalid/ocsp/<ca>`` and
``http://pki.dev.invalid/crl/<ca>.crl`` (SM2 ones ``.../sm2/crl/<ca>.crl``, CRLs only).
Instead of a web server, the validator gets these
``Fetchers`` (pyhanko-certvalidator's extension point for revocation sources): the OCSP
fetcher signs a fresh response with the issuing CA's own key from the revocation records in the
PKI directory, the CRL fetcher returns the CA's current CRL file. Revocations recorded by
another process are seen at once, because the records are re-read on every request.

Only addresses under the development base URL are answered; anything else fails the fetch,
which the validator treats according to its revocation mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Iterable
from pathlib import Path
from typing import TypeAlias

from asn1crypto import cms, crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers.api import CertificateFetcher, CRLFetcher, Fetchers, OCSPFetcher
from pyhanko_certvalidator.util import get_ocsp_urls, issuer_serial

from signing.errors import PkiError
from signing.pki_dev import DevPki
from signing.pki_sm2 import SM2_CRL_BASE, Sm2CaName
from signing.profiles import DEV_BASE_URL, CaName

__all__ = ["dev_fetchers", "ocsp_response"]

_PKIS: dict[Path, DevPki] = {}
AnyCert: TypeAlias = asn1_x509.Certificate | cms.AttributeCertificateV2


def dev_fetchers(directory: Path) -> Fetchers:
    """Fetchers answering the development PKI's revocation addresses from ``directory``."""
    key = directory.resolve()
    if key not in _PKIS:
        _PKIS[key] = DevPki(key)
    pki = _PKIS[key]
    return Fetchers(
        ocsp_fetcher=_OcspFetcher(pki), crl_fetcher=_CrlFetcher(pki), cert_fetcher=_NoCertFetcher()
    )


def ocsp_response(pki: DevPki, certificate: x509.Certificate) -> bytes:
    """A DER OCSP response for ``certificate``, signed by its issuing CA."""
    ca = pki.ca_name_for(certificate.issuer)
    issuer = pki.ca(ca)
    revocation = pki.revocation(ca, certificate.serial_number)
    now = dt.datetime.now(dt.UTC)
    if revocation is None:
        status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
    else:
        status, (revoked_at, reason) = ocsp.OCSPCertStatus.REVOKED, revocation
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=certificate,
            issuer=issuer.certificate,
            algorithm=hashes.SHA256(),
            cert_status=status,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + dt.timedelta(days=1),
            revocation_time=revoked_at,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
    )
    response = builder.sign(issuer.private_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def _ca_from_url(url: str, kind: str, suffix: str = "") -> CaName | None:
    prefix = f"{DEV_BASE_URL}/{kind}/"
    if not (url.startswith(prefix) and url.endswith(suffix)):
        return None
    name = url[len(prefix) : len(url) - len(suffix)]
    return CaName(name) if name in set(CaName) else None


def _sm2_ca_from_url(url: str) -> Sm2CaName | None:
    prefix = f"{SM2_CRL_BASE}/"
    if not (url.startswith(prefix) and url.endswith(".crl")):
        return None
    name = url[len(prefix) : -len(".crl")]
    return Sm2CaName(name) if name in set(Sm2CaName) else None


class _OcspFetcher(OCSPFetcher):
    def __init__(self, pki: DevPki) -> None:
        self._pki = pki
        self._responses: dict[bytes, asn1_ocsp.OCSPResponse] = {}

    async def fetch(self, cert: AnyCert, authority: Authority) -> asn1_ocsp.OCSPResponse:
        if not isinstance(cert, asn1_x509.Certificate):
            raise OCSPFetchError("the development responder only knows X.509 certificates")
        if not any(_ca_from_url(url, "ocsp") for url in get_ocsp_urls(cert)):
            raise OCSPFetchError("no development OCSP address in this certificate")
        try:
            der = ocsp_response(self._pki, x509.load_der_x509_certificate(cert.dump()))
        except (PkiError, OSError, ValueError) as exc:
            raise OCSPFetchError(f"development OCSP responder failed: {exc}") from exc
        response = asn1_ocsp.OCSPResponse.load(der)
        self._responses[issuer_serial(cert)] = response
        return response

    def fetched_responses(self) -> Iterable[asn1_ocsp.OCSPResponse]:
        return list(self._responses.values())

    def fetched_responses_for_cert(self, cert: AnyCert) -> Iterable[asn1_ocsp.OCSPResponse]:
        response = self._responses.get(issuer_serial(cert))
        return [] if response is None else [response]


class _CrlFetcher(CRLFetcher):
    def __init__(self, pki: DevPki) -> None:
        self._pki = pki
        self._by_cert: dict[bytes, list[crl.CertificateList]] = {}

    async def fetch(self, cert: AnyCert, *, use_deltas: bool | None = None) -> list[crl.CertificateList]:
        if not isinstance(cert, asn1_x509.Certificate):
            raise CRLFetchError("the development CRL point only knows X.509 certificates")
        urls = [point.url for point in cert.crl_distribution_points if point.url]
        cas = {ca for url in urls if (ca := _ca_from_url(url, "crl", ".crl")) is not None}
        sm2_cas = {sm2_ca for url in urls if (sm2_ca := _sm2_ca_from_url(url)) is not None}
        if not cas and not sm2_cas:
            raise CRLFetchError("no development CRL address in this certificate")
        try:
            ders = [self._pki.crl(ca) for ca in sorted(cas)]
            ders += [self._pki.sm2.crl(ca) for ca in sorted(sm2_cas)]
            lists = [crl.CertificateList.load(der) for der in ders]
        except (PkiError, OSError, ValueError) as exc:
            raise CRLFetchError(f"development CRL point failed: {exc}") from exc
        self._by_cert[issuer_serial(cert)] = lists
        return lists

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return [item for lists in self._by_cert.values() for item in lists]

    def fetched_crls_for_cert(self, cert: AnyCert) -> Iterable[crl.CertificateList]:
        return self._by_cert[issuer_serial(cert)]


class _NoCertFetcher(CertificateFetcher):
    """Issuer certificates travel inside the signatures; nothing is fetched by URL."""

    async def _nothing(self) -> AsyncGenerator[asn1_x509.Certificate, None]:
        for cert in list[asn1_x509.Certificate]():
            yield cert

    def fetch_cert_issuers(self, cert: AnyCert) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._nothing()

    def fetch_crl_issuers(
        self, certificate_list: crl.CertificateList
    ) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._nothing()

    def fetched_certs(self) -> Iterable[asn1_x509.Certificate]:
        return []
