"""Key sources: where the private key behind a seal or signature lives, and how it signs.

``KeySigner`` is a pyhanko ``Signer`` that keeps the *loaded* ``cryptography`` key object.
pyhanko's ``SimpleSigner`` re-parses its key from DER on every signature, and for RSA the
parse re-validates the key (~30-40 ms, twice per PDF because of the size-estimation dry run);
holding the object makes a signature cost the RSA/ECDSA operation alone. A ``cryptography``
private key is immutable and OpenSSL creates a fresh signing context per ``sign()`` call, so one
``KeySigner`` serves concurrent requests (threads or tasks) without a lock. The dry run returns
zero bytes of the exact signature size instead of signing. A second cost hides in pyhanko's
CMS assembly: the signing-certificate-v2 attribute, freshly built per signature, is re-encoded
by asn1crypto hundreds of times (~15 ms). ``pades_signed_attributes`` encodes it once per
signer and hands out parsed copies; it is the whole signed-attribute set of a PAdES signature
(pyhanko adds content-type and message-digest itself; PAdES forbids signing-time).

Sources: a PKCS#12 file (``load_pkcs12``), a key object already in memory (``KeySigner(...)``),
a development PKI credential (``KeySigner.from_credential``) and a PKCS#11 token, the production
path for seal keys (``signing.pkcs11.open_pkcs11_signer``: pyhanko's ``PKCS11Signer`` over one
locked, shared session, with ``pades_signed_attributes`` applied; tested against SoftHSM).
Per-party keys for remote signing are created by
``create_party_key``: a fresh EC P-256 key certified by the party CA, returned encrypted at rest
(PKCS#8, ``BestAvailableEncryption``) under a password derived from the caller's secret;
``load_party_signer`` decrypts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from signing.errors import ConfigurationError, KeySourceError
from signing.profiles import Credential, PrivateKey

__all__ = [
    "KeySigner",
    "PartyCertificateIssuer",
    "PartyKey",
    "create_party_key",
    "load_party_signer",
    "load_pkcs12",
    "pades_signed_attributes",
    "party_pseudonym",
]

_MIN_SECRET_BYTES = 16


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _SigningCertificateV2(CMSAttributeProvider):
    attribute_type = "signing_certificate_v2"

    def __init__(self, cert: asn1_x509.Certificate) -> None:
        self._der = as_signing_certificate_v2(cert).dump()

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        # A fresh parsed copy per signature: nothing shared is ever mutated.
        return tsp.SigningCertificateV2.load(self._der)


class _PadesSignedAttributes(SignedAttributeProviderSpec):
    def __init__(self, cert: asn1_x509.Certificate) -> None:
        self._signing_certificate = _SigningCertificateV2(cert)

    def signed_attr_providers(
        self, data_digest: bytes, digest_algorithm: str
    ) -> Iterator[CMSAttributeProvider]:
        yield self._signing_certificate


def pades_signed_attributes(signer: Signer) -> None:
    """Give ``signer`` a PAdES signed-attribute set encoded once (any pyhanko ``Signer``)."""
    if signer.signing_cert is None:
        raise KeySourceError("the signer has no certificate")
    signer.signed_attr_prov_spec = _PadesSignedAttributes(signer.signing_cert)


class KeySigner(Signer):
    """A pyhanko ``Signer`` over an in-memory RSA or EC private key; safe to share."""

    def __init__(
        self,
        private_key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        prefer_pss: bool = False,
    ) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeySourceError("only RSA and EC private keys are supported")
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if private_key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise KeySourceError("the private key does not belong to the certificate")
        self._private_key = private_key
        chain_store = SimpleCertificateStore.from_certs([_to_asn1(cert) for cert in chain])
        super().__init__(prefer_pss=prefer_pss, signing_cert=_to_asn1(certificate), cert_registry=chain_store)
        pades_signed_attributes(self)

    @classmethod
    def from_credential(cls, credential: Credential) -> KeySigner:
        """Signer for a development PKI credential (agency seal, portal seal, ...)."""
        return cls(credential.private_key, credential.certificate, credential.chain)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        key = self._private_key
        if dry_run:
            return bytes(self._signature_size())
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism.signature_algo
        if isinstance(key, rsa.RSAPrivateKey):
            if algorithm == "rsassa_pss":
                pss, hash_algorithm = process_pss_params(mechanism["parameters"])
                return key.sign(data, pss, hash_algorithm)
            if algorithm == "rsassa_pkcs1v15":
                return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        elif algorithm == "ecdsa":
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        raise KeySourceError(f"signature mechanism {algorithm} does not fit this key")

    def _signature_size(self) -> int:
        key = self._private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.key_size // 8
        # DER ECDSA-Sig-Value at its largest: two INTEGERs with a sign byte each.
        return 2 * ((key.curve.key_size + 7) // 8 + 1) + 6


def load_pkcs12(path: Path, password: bytes | None) -> KeySigner:
    """Load a seal key and certificate (plus chain) from a PKCS#12 file."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except (OSError, ValueError) as exc:
        raise KeySourceError(f"cannot read PKCS#12 file {path.name}: wrong password or not PKCS#12") from exc
    if key is None or cert is None:
        raise KeySourceError(f"PKCS#12 file {path.name} holds no key and certificate pair")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeySourceError("only RSA and EC private keys are supported")
    return KeySigner(key, cert, extra)


class PartyCertificateIssuer(Protocol):
    """A CA that certifies natural persons' keys (the development party CA is one)."""

    def issue_party_certificate(
        self, name: str, pseudonym: str, public_key: ec.EllipticCurvePublicKey
    ) -> x509.Certificate: ...

    def chain_of(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]: ...


@dataclass(frozen=True)
class PartyKey:
    """A party's signing key as stored by the portal: nothing in it is usable without the secret."""

    certificate: bytes
    """DER certificate: CN = the person's name, serialNumber = ``pseudonym``."""
    chain: tuple[bytes, ...]
    """DER certificates of the issuing CAs, nearest first."""
    encrypted_private_key: bytes
    """PEM PKCS#8 ``ENCRYPTED PRIVATE KEY``."""
    salt: bytes
    """Per-key salt of the password derivation."""
    pseudonym: str


def party_pseudonym(subject_id: str, secret: bytes) -> str:
    """Keyed hash of a person's identifier: stable per person, useless to someone without ``secret``.

    A plain hash of an ID number could be reversed by trying every birth date and sequence;
    the HMAC key prevents that.
    """
    _check_secret(secret)
    digest = hmac.new(secret, b"signing/party-pseudonym\x00" + subject_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:32].upper()


def create_party_key(issuer: PartyCertificateIssuer, name: str, subject_id: str, secret: bytes) -> PartyKey:
    """New EC P-256 key for a natural person, certified by ``issuer``, encrypted at rest.

    ``subject_id`` is whatever identifies the person to the portal (an OIDC subject, or a hash
    of the ID number); it only enters the certificate as a keyed pseudonym. ``secret`` must be
    high-entropy (at least 16 bytes from the portal's key store), not a user's password.
    """
    pseudonym = party_pseudonym(subject_id, secret)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issuer.issue_party_certificate(name, pseudonym, key.public_key())
    salt = os.urandom(16)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_key_password(secret, salt)),
    )
    der = serialization.Encoding.DER
    return PartyKey(
        certificate=cert.public_bytes(der),
        chain=tuple(ca.public_bytes(der) for ca in issuer.chain_of(cert)),
        encrypted_private_key=encrypted,
        salt=salt,
        pseudonym=pseudonym,
    )


def load_party_signer(party_key: PartyKey, secret: bytes) -> KeySigner:
    """Decrypt a ``PartyKey`` with the secret it was created under."""
    try:
        key = serialization.load_pem_private_key(
            party_key.encrypted_private_key, password=_key_password(secret, party_key.salt)
        )
        cert = x509.load_der_x509_certificate(party_key.certificate)
        chain = [x509.load_der_x509_certificate(der) for der in party_key.chain]
    except ValueError as exc:
        raise KeySourceError("cannot decrypt the party key: wrong secret or damaged record") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeySourceError("a party key must be an EC key")
    return KeySigner(key, cert, chain)


def _check_secret(secret: bytes) -> None:
    if len(secret) < _MIN_SECRET_BYTES:
        raise ConfigurationError(f"the party key secret needs at least {_MIN_SECRET_BYTES} bytes")


def _key_password(secret: bytes, salt: bytes) -> bytes:
    # The secret is high-entropy, so HKDF (no stretching) suffices; PKCS#8 encryption adds PBKDF2.
    _check_secret(secret)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"signing/party-key").derive(secret)
    return base64.b64encode(derived)
