"""The portal's national-standard seal: an SM2 key that seals PDFs (SM2/SM3 CMS) and OFDs (GB/T 38540).

``Sm2Signer`` is a pyhanko ``Signer``: pyhanko assembles the CMS (signed attributes, byte
range, PAdES or adbe.pkcs7 subfilter) and asks the signer only for the raw signature over the
DER of the signed attributes; this one answers with SM2 over SM3 and the GM/T 0009 signer
identity (``signing.sm2``), and declares ``sm2sign-with-sm3`` as the mechanism. Use it with
``md_algorithm="sm3"`` (``SignatureSettings(md_algorithm="sm3")``).

``load_sm2_seal`` reads what a deployment is given: the SM2 private key as PKCS#8 (PEM or DER;
encrypted with PBES2/PBKDF2 and AES-CBC, as ``openssl pkcs8 -topk8 -v2 aes-256-cbc`` writes it,
or plain), the certificate with its CAs, and optionally the organisation's GB/T 38540 seal
(``SESeal``, the ``.esl`` file a seal-making system issues), which OFD documents need. It
refuses, at start-up, a key that is not the certificate's, a seal its maker's signature does
not cover, a seal that does not name the certificate, and a seal outside its validity.

The key is held in memory. It cannot live in a PKCS#11 token here: PKCS#11 (v2.40 and 3.0)
defines no SM2 mechanism; Chinese HSMs add vendor-defined ones, each its own. Debian's SoftHSM
2.6.1, checked with python-pkcs11 (see README): its 70 mechanisms include no vendor-defined one;
it generates an EC key on the SM2 curve and signs with ``CKM_ECDSA`` there, but that value is
ECDSA and fails SM2 verification. So ``signing.pkcs11`` refuses a token whose certificate is SM2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from asn1crypto import algos, keys, pem, x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import KeySourceError
from signing.pki_sm2 import Sm2Credential
from signing.ses import SesSeal, read_seal
from signing.sm2 import SM2_SIGNATURE_OIDS, Sm2PrivateKey, is_sm2_key, sm2_verify

__all__ = ["Sm2Seal", "Sm2Signer", "load_sm2_seal", "load_sm2_signer"]

_DRY_RUN_SIZE = 72
"""A DER SM2 signature is at most 72 bytes (two 33-byte integers and their headers)."""
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha224": hashes.SHA224(), "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}


class Sm2Signer(Signer):
    def __init__(
        self, key: Sm2PrivateKey, cert: x509.Certificate, chain: tuple[x509.Certificate, ...] = ()
    ) -> None:
        self._key = key
        self.chain = chain
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"}),
        )

    @classmethod
    def from_credential(cls, credential: Sm2Credential) -> Sm2Signer:
        return cls(credential.private_key, credential.certificate, credential.chain)

    @property
    def key(self) -> Sm2PrivateKey:
        return self._key

    @property
    def certificate(self) -> x509.Certificate:
        return cast(x509.Certificate, self.signing_cert)  # set in __init__

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sm3":
            raise KeySourceError("an SM2 key signs with SM3 only")
        return bytes(_DRY_RUN_SIZE) if dry_run else self._key.sign(data)


@dataclass(frozen=True)
class Sm2Seal:
    """The SM2 signer and, for OFD documents, its GB/T 38540 seal (DER ``SESeal``)."""

    signer: Sm2Signer
    seal: bytes | None


def load_sm2_signer(key_file: Path, cert_file: Path, password: bytes | None = None) -> Sm2Signer:
    """An ``Sm2Signer`` from a PKCS#8 key and a certificate file (the seal's certificate first,
    then its CAs; PEM or a single DER certificate)."""
    try:
        key = Sm2PrivateKey.from_pkcs8(_private_key_der(key_file.read_bytes(), password))
        data = cert_file.read_bytes()
        ders = [bytes(der) for _kind, _headers, der in pem.unarmor(data, multiple=True)] if pem.detect(
            data) else [data]
        certs = [x509.Certificate.load(der, strict=True) for der in ders]
    except OSError as exc:
        raise KeySourceError(f"cannot read the SM2 seal key or certificate: {exc.strerror}") from exc
    except ValueError as exc:
        raise KeySourceError(f"cannot load the SM2 seal certificate: {exc}") from exc
    if not certs:
        raise KeySourceError("an SM2 seal needs its certificate")
    if not is_sm2_key(certs[0].public_key) or certs[0].public_key["public_key"].native[1:] != key.point:
        raise KeySourceError("the SM2 seal key does not belong to the first certificate of its file")
    return Sm2Signer(key, certs[0], tuple(certs[1:]))


def load_sm2_seal(
    key_file: Path, cert_file: Path, password: bytes | None = None, seal_file: Path | None = None,
    *, now: dt.datetime | None = None,
) -> Sm2Seal:
    """The SM2 signer and its GB/T 38540 seal, each checked against the other."""
    signer = load_sm2_signer(key_file, cert_file, password)
    if seal_file is None:
        return Sm2Seal(signer, None)
    try:
        seal_der = seal_file.read_bytes()
        seal = read_seal(seal_der)
    except OSError as exc:
        raise KeySourceError(f"cannot read the GB/T 38540 seal file: {exc.strerror}") from exc
    except ValueError as exc:
        raise KeySourceError("the seal file is not a GB/T 38540 (or GM/T 0031) SESeal") from exc
    _check_seal(seal, signer.certificate, now or dt.datetime.now(dt.UTC))
    return Sm2Seal(signer, seal_der)


def _check_seal(seal: SesSeal, certificate: x509.Certificate, now: dt.datetime) -> None:
    try:
        maker = x509.Certificate.load(seal.maker_cert, strict=True)
        maker_key = maker.public_key
    except ValueError as exc:
        raise KeySourceError("the seal's maker certificate is unreadable") from exc
    if seal.maker_algorithm not in SM2_SIGNATURE_OIDS or not sm2_verify(
            maker_key, seal.maker_signed_data, seal.maker_signature):
        raise KeySourceError("the seal's maker signature does not verify: the seal file is damaged or forged")
    if not seal.binds(certificate.dump()):
        raise KeySourceError("the seal does not name the SM2 seal certificate (its certificate list)")
    if not seal.seal_valid_from <= now <= seal.seal_valid_until:
        raise KeySourceError(
            f"the seal is valid from {seal.seal_valid_from:%Y-%m-%d} to {seal.seal_valid_until:%Y-%m-%d}")


def _private_key_der(data: bytes, password: bytes | None) -> bytes:
    """The plain PKCS#8 DER of ``data`` (PEM or DER, encrypted or not)."""
    kind, der = "PRIVATE KEY", data
    if pem.detect(data):
        kind, _headers, der = pem.unarmor(data)
    if kind == "PRIVATE KEY":
        if password:
            raise KeySourceError("PORTAL_SEAL_SM2_KEY_PASSWORD is set but the SM2 key is not encrypted")
        return bytes(der)
    if kind != "ENCRYPTED PRIVATE KEY":
        raise KeySourceError(f"the SM2 seal key is a {kind}, not a PKCS#8 private key")
    if not password:
        raise KeySourceError("the SM2 seal key is encrypted: set PORTAL_SEAL_SM2_KEY_PASSWORD")
    return _decrypt_pkcs8(bytes(der), password)


def _decrypt_pkcs8(der: bytes, password: bytes) -> bytes:
    """PBES2 with PBKDF2 and AES-CBC (RFC 8018): what OpenSSL writes by default."""
    try:
        info = keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        algorithm = info["encryption_algorithm"]
        scheme = (algorithm.kdf, algorithm.encryption_cipher, algorithm.encryption_mode)
        if scheme != ("pbkdf2", "aes", "cbc"):
            raise KeySourceError("the SM2 seal key's encryption is not PBES2 with PBKDF2 and AES-CBC")
        key = PBKDF2HMAC(algorithm=_HASHES[algorithm.kdf_hmac], length=algorithm.key_length,
                         salt=algorithm.kdf_salt, iterations=algorithm.kdf_iterations).derive(password)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(algorithm.encryption_iv)).decryptor()
        padded = decryptor.update(info["encrypted_data"].native) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        # a wrong password passes the padding check about once in 256 tries: what it then
        # decrypts is no PKCS#8 structure, and that too is a wrong password
        keys.PrivateKeyInfo.load(plain, strict=True).native  # noqa: B018 (parsing it whole is the check)
        return plain
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise KeySourceError("cannot decrypt the SM2 seal key: wrong password or damaged file") from exc
