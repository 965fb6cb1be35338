"""SM2 signatures over SM3 (GB/T 32918, GM/T 0003), the algorithms of national-standard seals.

The arithmetic comes from ``gmssl-pyx``: a C extension that links GmSSL 3.x (the reference
implementation of the Chinese commercial algorithms) statically, ships wheels for every CPython
the project uses, and takes the signer identity as an argument. Verifying costs about 0.6 ms;
the pure-Python libraries (``gmssl``, ``gmalg``, ``snowland-smx``) take 20-40 ms, ``tongsuopy``
has had no release since 2023 and no certificate support, ``cryptography`` has SM3 but no SM2.

The signer identity: an SM2 signature is not over the message alone but over
``SM3(Z_A || M)``, where ``Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)`` binds the
signer's public key and identity. GM/T 0009 fixes the identity to ``1234567812345678`` unless
the two parties agreed otherwise; every standard the portal reads (GB/T 35275 CMS, GB/T 38540
seals, X.509 certificates and CRLs under GM/T 0015) uses that default, and so does everything
here. gmssl-pyx computes ``Z_A`` itself from the key and the identity we pass.

This module also teaches ``asn1crypto`` the GM/T 0006 object identifiers (curve, SM3,
SM2-with-SM3), once, at import, so certificates, CRLs and CMS structures carrying them parse
into names rather than dotted strings, and gives pyhanko-certvalidator a
``SignatureValidator`` that checks SM2 signatures and hands everything else to its default.
That is how chains of SM2 certificates and SM2-signed CRLs are validated by the same
path-validation code as RSA/ECDSA ones.

GmSSL reports every failed verification by writing its source locations
(``/project/GmSSL/src/sm2_sign.c:265:sm2_fast_verify():``) straight to file descriptor 2, past
Python's logging: a hostile upload would fill the worker's JSON log with raw lines. So each
verification runs with descriptor 2 pointed at a scratch file (``_GmsslStderr``); GmSSL's
lines become DEBUG records of ``signing.sm2.gmssl`` (dropped by the workers' WARNING level),
and anything else another thread wrote in that window is passed on to the real stderr.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import gmssl_pyx
from asn1crypto import algos, core, keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
    SignatureValidator,
)

from signing.errors import KeySourceError

__all__ = [
    "DEFAULT_SIGNER_ID",
    "SM2_CURVE_OID",
    "SM2_SIGNATURE_OIDS",
    "SM2_WITH_SM3_OID",
    "SM3_OID",
    "GmSignatureValidator",
    "Sm2PrivateKey",
    "is_sm2_key",
    "sm2_public_point",
    "sm2_verify",
    "sm3",
]

SM2_CURVE_OID = "1.2.156.10197.1.301"
SM2_SIGN_OID = "1.2.156.10197.1.301.1"
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM3_OID = "1.2.156.10197.1.401"
SM2_SIGNATURE_OIDS = frozenset({SM2_CURVE_OID, SM2_SIGN_OID, SM2_WITH_SM3_OID})
"""Names of an SM2 signature in the wild: GM/T 0006 ``sm2sign-with-sm3``, and in CMS signer
infos (GB/T 35275) also ``sm2-1`` or the bare curve identifier."""
DEFAULT_SIGNER_ID = b"1234567812345678"
_gmssl_log = logging.getLogger("signing.sm2.gmssl")


def _register(cls: type[core.ObjectIdentifier], oid: str, name: str) -> None:
    cls._map[oid] = name
    if cls._reverse_map is not None:
        cls._reverse_map[name] = oid


def _register_oids() -> None:
    if SM2_CURVE_OID not in keys.NamedCurve._map:
        keys.NamedCurve.register("sm2p256v1", SM2_CURVE_OID, 32)
    _register(algos.DigestAlgorithmId, SM3_OID, "sm3")
    _register(algos.SignedDigestAlgorithmId, SM2_WITH_SM3_OID, "sm2_sm3")
    _register(algos.SignedDigestAlgorithmId, SM2_SIGN_OID, "sm2")


_register_oids()


def sm3(data: bytes) -> bytes:
    digest: bytes = gmssl_pyx.sm3_hash(data)
    return digest


def is_sm2_key(public_key: keys.PublicKeyInfo) -> bool:
    algorithm = public_key["algorithm"]
    if algorithm["algorithm"].native != "ec":
        return False
    curve = algorithm["parameters"].chosen
    return isinstance(curve, core.ObjectIdentifier) and curve.dotted == SM2_CURVE_OID


def sm2_public_point(public_key: keys.PublicKeyInfo) -> bytes:
    """The 64 bytes ``x || y`` of an SM2 public key, checked to lie on the curve."""
    point = public_key["public_key"].native
    try:
        raw: bytes = gmssl_pyx.normalize_sm2_public_key(bytes(point))
    except (gmssl_pyx.InvalidValueError, ValueError, TypeError) as exc:
        raise ValueError("not a point of the SM2 curve") from exc
    return raw


class _GmsslStderr:
    """Descriptor 2 redirected to a scratch file while GmSSL runs, one call at a time."""

    _LINE = re.compile(rb"^/\S+\.c:\d+:\w+\(\):( .*)?$")
    """What GmSSL's ``error_print()`` writes: ``file.c:line:function():`` and maybe a detail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scratch: tuple[int, int] | None = None
        """``(pid, descriptor)``: a forked worker opens its own."""

    def _descriptor(self) -> int:
        if self._scratch is None or self._scratch[0] != os.getpid():
            with tempfile.TemporaryFile() as handle:  # the duplicate keeps it for the process
                self._scratch = (os.getpid(), os.dup(handle.fileno()))
        return self._scratch[1]

    @contextmanager
    def captured(self) -> Iterator[None]:
        with self._lock:
            scratch = self._descriptor()
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(scratch, 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                self._drain(scratch)

    def _drain(self, scratch: int) -> None:
        size = os.lseek(scratch, 0, os.SEEK_END)
        if not size:
            return
        data = os.pread(scratch, size, 0)
        os.ftruncate(scratch, 0)
        os.lseek(scratch, 0, os.SEEK_SET)
        others = []
        for line in data.splitlines(keepends=True):
            if self._LINE.match(line.rstrip(b"\n")):
                _gmssl_log.debug("GmSSL: %s", line.rstrip().decode("ascii", "replace"))
            else:
                others.append(line)
        if others:
            os.write(2, b"".join(others))


_stderr = _GmsslStderr()


def sm2_verify(
    public_key: keys.PublicKeyInfo, message: bytes, signature: bytes, signer_id: bytes = DEFAULT_SIGNER_ID
) -> bool:
    """Whether ``signature`` (DER ``SEQUENCE {r, s}``) is ``public_key``'s over ``message``."""
    try:
        point = sm2_public_point(public_key)
        with _stderr.captured():
            return bool(gmssl_pyx.sm2_verify(point, message, signature, signer_id=signer_id))
    except (gmssl_pyx.GmsslInnerError, ValueError, TypeError):
        return False


class GmSignatureValidator(SignatureValidator):
    """pyhanko-certvalidator's signature check, with SM2-with-SM3 added.

    An SM2 key must come with an SM2 signature algorithm and the reverse: an ECDSA identifier
    over an SM2 key (or SM2 over a P-256 key) is refused, never guessed at.
    """

    _default = DefaultSignatureValidator()

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        sm2_algorithm = signature_algorithm["algorithm"].dotted in SM2_SIGNATURE_OIDS
        if not sm2_algorithm and not is_sm2_key(public_key_info):
            self._default.validate_signature(
                signature, signed_data, public_key_info, signature_algorithm, context
            )
            return
        if not (sm2_algorithm and is_sm2_key(public_key_info)):
            raise AlgorithmNotSupported("SM2 signature and key must go together")
        if context.prehashed:
            raise AlgorithmNotSupported("SM2 signs the message with the signer's identity, not a digest")
        digest = context.contextual_md_algorithm
        if signature_algorithm["algorithm"].dotted != SM2_WITH_SM3_OID and digest not in (None, "sm3"):
            raise AlgorithmNotSupported(f"SM2 with digest {digest}")
        if not sm2_verify(public_key_info, signed_data, signature):
            raise InvalidSignature()


@dataclass(frozen=True)
class Sm2PrivateKey:
    """An SM2 key pair held in memory: 32-byte secret, 64-byte public point."""

    secret: bytes
    point: bytes

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        public, private = gmssl_pyx.sm2_key_generate()
        return cls(bytes(private), bytes(public))

    def sign(self, message: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> bytes:
        """DER ``SEQUENCE {r, s}`` over ``SM3(Z_A || message)``."""
        signature: bytes = gmssl_pyx.sm2_sign(self.secret, self.point, message, signer_id=signer_id)
        return signature

    @property
    def public_key(self) -> keys.PublicKeyInfo:
        return keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "ec", "parameters": ("named", "sm2p256v1")},
                "public_key": b"\x04" + self.point,
            }
        )

    def to_pkcs8(self) -> bytes:
        """PKCS#8 DER, as OpenSSL writes an SM2 key (``openssl pkey`` reads it)."""
        inner = keys.ECPrivateKey(
            {
                "version": "ecPrivkeyVer1",
                "private_key": int.from_bytes(self.secret, "big"),
                "parameters": ("named", "sm2p256v1"),
                "public_key": b"\x04" + self.point,
            }
        )
        return keys.PrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": {"algorithm": "ec", "parameters": ("named", "sm2p256v1")},
                "private_key": inner,
            }
        ).dump()

    @classmethod
    def from_pkcs8(cls, der: bytes) -> Sm2PrivateKey:
        try:
            info = keys.PrivateKeyInfo.load(der)
            curve = info["private_key_algorithm"]["parameters"].chosen
            if info["private_key_algorithm"]["algorithm"].native != "ec" or curve.dotted != SM2_CURVE_OID:
                raise KeySourceError("not an SM2 private key")
            inner = info["private_key"].parsed
            secret = inner["private_key"].native.to_bytes(32, "big")
            point = bytes(inner["public_key"].native)[1:]
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise KeySourceError("unreadable SM2 private key") from exc
        key = cls(secret, point)
        if not sm2_verify(key.public_key, b"check", key.sign(b"check")):
            raise KeySourceError("SM2 private and public key do not match")
        return key
