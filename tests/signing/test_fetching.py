"""No network request is driven by an uploaded file (the SSRF this prevents: with
real trust roots, verifying an uploaded PDF fetched the caIssuers URL of the attacker's
certificate). SECURITY.md "Deployment configuration" (SSRF, v5.0.0-12.6.x): the file's certificates
name a receiver on 127.0.0.1 for their issuer, OCSP and CRL; verification with production
fetching turned on must not send it a single request."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko_certvalidator.errors import OCSPFetchError
from pyhanko_certvalidator.fetchers.api import Fetchers

from signing import (
    DevPki,
    Indication,
    KeySigner,
    SignatureSettings,
    TrustSettings,
    VerificationContext,
    async_sign_pdf,
    verify_pdf,
)
from signing.fetching import allow_listed, named_hosts
from signing.profiles import issue
from tests.signing.sample_pdfs import make_pdf


@dataclasses.dataclass
class Listener:
    requests: list[bytes] = dataclasses.field(default_factory=list)
    base: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(await reader.readline())
        writer.write(b"HTTP/1.1 404 X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def listener() -> AsyncIterator[Listener]:
    found = Listener()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield found
    finally:
        server.close()
        await server.wait_closed()


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pointing_at(base: str) -> list[tuple[x509.ExtensionType, bool]]:
    """Extensions naming ``base`` for the issuer certificate, OCSP and the CRL."""
    aia = x509.AuthorityInformationAccess([
        x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS,
                               x509.UniformResourceIdentifier(f"{base}/issuer.crt")),
        x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP,
                               x509.UniformResourceIdentifier(f"{base}/ocsp"))])
    crl = x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(f"{base}/list.crl")], None, None, None)])
    return [(x509.BasicConstraints(ca=False, path_length=None), True), (aia, False), (crl, False)]


async def test_an_uploaded_signature_makes_no_request_to_the_addresses_it_names(
        pki: DevPki, listener: Listener) -> None:
    attacker_key = ec.generate_private_key(ec.SECP256R1())
    attacker_ca = issue(_name("Attacker CA"), attacker_key.public_key(), None,
                        [(x509.BasicConstraints(ca=True, path_length=0), True)], signing_key=attacker_key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name("伪造的印章")).issuer_name(attacker_ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
            .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)))
    for extension, critical in _pointing_at(listener.base):
        leaf = leaf.add_extension(extension, critical=critical)
    certificate = leaf.sign(attacker_key, hashes.SHA256())
    signed = await async_sign_pdf(make_pdf(), KeySigner(leaf_key, certificate, ()), SignatureSettings())

    production = dataclasses.replace(pki.trust_settings(), dev_pki_dir=None, fetch_online=True)
    report = await asyncio.to_thread(verify_pdf, signed, VerificationContext(trust=production))
    await asyncio.sleep(0.2)  # anything already on its way would have arrived
    assert report.indication is not Indication.TOTAL_PASSED
    assert listener.requests == []  # no caIssuers, no OCSP, no CRL request


async def test_revocation_is_asked_only_of_the_hosts_the_trusted_cas_name(
        pki: DevPki, listener: Listener) -> None:
    trust: TrustSettings = pki.trust_settings()
    roots = trust.root_certificates()
    agency = pki.agency_seal("福州市市场监督管理局", "11350100003632789X")
    trusted_leaf = asn1_x509.Certificate.load(agency.certificate.public_bytes(serialization.Encoding.DER))
    assert named_hosts([trusted_leaf]) == {"pki.dev.invalid"}  # the dev CA's own responder

    class Recording:
        def __init__(self) -> None:
            self.asked: list[str] = []

        async def fetch(self, cert: asn1_x509.Certificate, authority: object) -> object:
            self.asked.append(cert.subject.human_friendly)
            return "answer"

    inner = Recording()
    fetchers = allow_listed(Fetchers(ocsp_fetcher=inner, crl_fetcher=inner, cert_fetcher=inner),  # type: ignore[arg-type]
                            named_hosts(roots) | named_hosts([trusted_leaf]))
    assert await fetchers.ocsp_fetcher.fetch(trusted_leaf, None) == "answer"  # type: ignore[arg-type]
    elsewhere = allow_listed(Fetchers(ocsp_fetcher=inner, crl_fetcher=inner, cert_fetcher=inner),  # type: ignore[arg-type]
                             frozenset({"ocsp.ca.example"}))
    with pytest.raises(OCSPFetchError):
        await elsewhere.ocsp_fetcher.fetch(trusted_leaf, None)  # type: ignore[arg-type]
    assert [c async for c in fetchers.cert_fetcher.fetch_cert_issuers(trusted_leaf)] == []
    assert len(inner.asked) == 1
