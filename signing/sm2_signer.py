"""A pyhanko ``Signer`` whose key is SM2: PDF signatures with SM2/SM3 CMS (GM/T 0010 OIDs).

pyhanko assembles the CMS (signed attributes, byte range, PAdES or adbe.pkcs7 subfilter) and
asks the signer only for the raw signature over the DER of the signed attributes; this one
answers with SM2 over SM3 and the GM/T 0009 signer identity (``signing.sm2``), and declares
``sm2sign-with-sm3`` as the mechanism. Use it with ``md_algorithm="sm3"``
(``SignatureSettings(md_algorithm="sm3")``). The key is held in memory, loaded from a PKCS#8 file
(``load_sm2_pkcs8``) or a development PKI credential. SoftHSM 2 (Debian's 2.6) has no SM2
mechanism, so an SM2 key cannot live in the PKCS#11 test token; see README.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import algos, pem, x509
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import KeySourceError
from signing.pki_sm2 import Sm2Credential
from signing.sm2 import Sm2PrivateKey

__all__ = ["Sm2Signer", "load_sm2_pkcs8"]

_DRY_RUN_SIZE = 72
"""A DER SM2 signature is at most 72 bytes (two 33-byte integers and their headers)."""


class Sm2Signer(Signer):
    def __init__(
        self, key: Sm2PrivateKey, cert: x509.Certificate, chain: tuple[x509.Certificate, ...] = ()
    ) -> None:
        self._key = key
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"}),
        )

    @classmethod
    def from_credential(cls, credential: Sm2Credential) -> Sm2Signer:
        return cls(credential.private_key, credential.certificate, credential.chain)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sm3":
            raise KeySourceError("an SM2 key signs with SM3 only")
        return bytes(_DRY_RUN_SIZE) if dry_run else self._key.sign(data)


def load_sm2_pkcs8(key_file: Path, cert_files: tuple[Path, ...]) -> Sm2Signer:
    """An ``Sm2Signer`` from a PKCS#8 key (PEM or DER) and its certificate first, then its CAs."""
    try:
        key = Sm2PrivateKey.from_pkcs8(_der(key_file.read_bytes()))
        certs = [x509.Certificate.load(_der(path.read_bytes())) for path in cert_files]
    except (OSError, ValueError) as exc:
        raise KeySourceError(f"cannot load the SM2 seal key or certificate: {exc}") from exc
    if not certs:
        raise KeySourceError("an SM2 seal needs its certificate")
    return Sm2Signer(key, certs[0], tuple(certs[1:]))


def _der(data: bytes) -> bytes:
    return bytes(pem.unarmor(data)[2]) if pem.detect(data) else data
