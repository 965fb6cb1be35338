"""X.509 profiles of the development PKI: names, extensions, and the marks of a seal.

Every certificate the development PKI issues is built here, so that its shape is in one place:
CAs (basic constraints, key usage, CRL distribution point of the parent), end-entity
certificates (non-repudiation, CRL and OCSP addresses under ``DEV_BASE_URL``) and the
certificate-policy OIDs that say "organisation seal" or "natural person". The verifier reads the
same OIDs (``signing.inspection``) to tell a legal person's seal from a person's signature; they
sit under the UUID arc (2.25), unique without registration.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from signing.errors import PkiError

__all__ = [
    "DEV_BASE_URL",
    "NATURAL_PERSON_POLICY",
    "ORGANISATION_SEAL_POLICY",
    "CaName",
    "Credential",
    "Extensions",
    "KeyAlgorithm",
    "PrivateKey",
    "authority_key_identifier",
    "ca_extensions",
    "end_entity_extensions",
    "issue",
    "new_key",
    "organisation_name",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DEV_BASE_URL = "http://pki.dev.invalid"
ORGANISATION_SEAL_POLICY = "2.25.219372958120446817736123860297432717713"
NATURAL_PERSON_POLICY = "2.25.302181557245406981183245360786604101425"
Extensions = list[tuple[x509.ExtensionType, bool]]


class CaName(enum.StrEnum):
    """The certification authorities of the development PKI."""

    ROOT = "root"
    ORGANISATIONS = "org-ca"
    PARTIES = "party-ca"


class KeyAlgorithm(enum.StrEnum):
    RSA_2048 = "rsa2048"
    EC_P256 = "ec-p256"


@dataclass(frozen=True)
class Credential:
    """A certificate, its private key and its issuers (nearest first, root last)."""

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...]


def organisation_name(name: str, uscc: str | None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ]
    if uscc:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, uscc))
    return x509.Name(attributes)


def new_key(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm is KeyAlgorithm.RSA_2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def authority_key_identifier(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def ca_extensions(path_length: int | None, parent: CaName | None) -> Extensions:
    extensions: Extensions = [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
    ]
    if parent is not None:
        extensions.append((_crl_points(parent), False))
    return extensions


def end_entity_extensions(issuer: CaName | None, policy: str | None) -> Extensions:
    extensions: Extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
    ]
    if issuer is not None:
        ocsp_url = x509.UniformResourceIdentifier(f"{DEV_BASE_URL}/ocsp/{issuer}")
        extensions.append((_crl_points(issuer), False))
        extensions.append(
            (
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, ocsp_url),
                    ]
                ),
                False,
            )
        )
    if policy is not None:
        extensions.append(
            (
                x509.CertificatePolicies(
                    [
                        x509.PolicyInformation(x509.ObjectIdentifier(policy), None),
                    ]
                ),
                False,
            )
        )
    return extensions


def _crl_points(issuer: CaName) -> x509.CRLDistributionPoints:
    url = x509.UniformResourceIdentifier(f"{DEV_BASE_URL}/crl/{issuer}.crl")
    return x509.CRLDistributionPoints([x509.DistributionPoint([url], None, None, None)])


def issue(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: Credential | None,
    extensions: Extensions,
    *,
    signing_key: PrivateKey | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(hours=1))
        .not_valid_after(not_after or now + dt.timedelta(days=1095))
        .add_extension(ski, critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(authority_key_identifier(issuer.certificate), critical=False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    key = issuer.private_key if issuer is not None else signing_key
    if key is None:
        raise PkiError("a self-signed certificate needs its own key")
    return builder.sign(key, hashes.SHA256())
