"""Which network fetches a verification may make: none that an uploaded file decides alone.

An uploaded PDF names addresses in its certificates: where the issuer's certificate is
(``caIssuers``), where to ask about revocation (OCSP, CRL). Followed blindly, a hostile file
makes the verification worker request any URL it likes (SSRF; the attacker's own
``caIssuers``, say). So, in production (``TrustSettings.fetch_online``):

- issuer certificates are never fetched: a path is built from the configured roots and
  intermediates and the certificates inside the file, or not at all. Revocation is asked for
  only once a path to a configured root exists (pyhanko-certvalidator checks revocation on a
  built path), so only for certificates a trusted CA issued;
- OCSP and CRL requests go only to hosts on the allow-list (``revocation_hosts``): by default
  the hosts the configured roots and intermediates themselves name for OCSP, CRLs and their
  issuers (the CAs' own infrastructure), plus those the operator adds. A certificate naming
  another host gets no answer, so under hard-fail it is not valid: an unreachable responder,
  not an unchecked one. SECURITY.md "Deployment configuration" (SSRF, ASVS v5.0.0-12.6.x).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import TypeAlias
from urllib.parse import urlsplit

from asn1crypto import cms, crl, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers.api import CertificateFetcher, CRLFetcher, Fetchers, OCSPFetcher

__all__ = ["allow_listed", "named_hosts"]

Certificate: TypeAlias = x509.Certificate | cms.AttributeCertificateV2


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _urls(certificate: x509.Certificate) -> list[str]:
    """Every OCSP, CRL and caIssuers address ``certificate`` names."""
    urls = list(certificate.ocsp_urls)
    for point in (*certificate.crl_distribution_points, *certificate.delta_crl_distribution_points):
        if point.url:
            urls.append(point.url)
    for access in certificate.authority_information_access_value or ():
        location = access["access_location"]
        if access["access_method"].native == "ca_issuers" and location.name == "uniform_resource_identifier":
            urls.append(location.native)
    return urls


def named_hosts(certificates: Iterable[x509.Certificate]) -> frozenset[str]:
    """The hosts the given (configured, trusted) certificates name for revocation and issuers."""
    return frozenset(host for certificate in certificates for url in _urls(certificate)
                     if (host := _host(url)))


def _allowed(urls: list[str], hosts: frozenset[str]) -> bool:
    return bool(urls) and all(_host(url) in hosts for url in urls)


class _NoIssuerFetches(CertificateFetcher):
    """Issuer certificates come from configuration and the file, never from the network."""

    async def _nothing(self) -> AsyncGenerator[x509.Certificate, None]:
        return
        yield  # pragma: no cover - makes this an async generator

    def fetch_cert_issuers(self, cert: Certificate) -> AsyncGenerator[x509.Certificate, None]:
        return self._nothing()

    def fetch_crl_issuers(self, certificate_list: crl.CertificateList
                          ) -> AsyncGenerator[x509.Certificate, None]:
        return self._nothing()

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return ()


class _AllowListedOcsp(OCSPFetcher):
    def __init__(self, inner: OCSPFetcher, hosts: frozenset[str]) -> None:
        self.inner, self.hosts = inner, hosts

    async def fetch(self, cert: Certificate, authority: Authority) -> ocsp.OCSPResponse:
        if not isinstance(cert, x509.Certificate) or not _allowed(list(cert.ocsp_urls), self.hosts):
            raise OCSPFetchError("OCSP responder not on the allow-list")
        return await self.inner.fetch(cert, authority)

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return self.inner.fetched_responses()

    def fetched_responses_for_cert(self, cert: Certificate) -> Iterable[ocsp.OCSPResponse]:
        return self.inner.fetched_responses_for_cert(cert)


class _AllowListedCrl(CRLFetcher):
    def __init__(self, inner: CRLFetcher, hosts: frozenset[str]) -> None:
        self.inner, self.hosts = inner, hosts

    async def fetch(self, cert: Certificate, *,
                    use_deltas: bool | None = None) -> Iterable[crl.CertificateList]:
        points = ((*cert.crl_distribution_points, *cert.delta_crl_distribution_points)
                  if isinstance(cert, x509.Certificate) else ())
        urls = [point.url for point in points if point.url]
        if not _allowed(urls, self.hosts):
            raise CRLFetchError("CRL distribution point not on the allow-list")
        return await self.inner.fetch(cert, use_deltas=use_deltas)

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return self.inner.fetched_crls()

    def fetched_crls_for_cert(self, cert: Certificate) -> Iterable[crl.CertificateList]:
        return self.inner.fetched_crls_for_cert(cert)


def allow_listed(inner: Fetchers, hosts: frozenset[str]) -> Fetchers:
    """``inner``'s OCSP and CRL fetchers limited to ``hosts``; no issuer fetching at all."""
    return Fetchers(ocsp_fetcher=_AllowListedOcsp(inner.ocsp_fetcher, hosts),
                    crl_fetcher=_AllowListedCrl(inner.crl_fetcher, hosts),
                    cert_fetcher=_NoIssuerFetches())
