"""A SoftHSM token (PKCS#11) holding development PKI seals, for the tests and the benchmark.

SoftHSM reads its configuration (``SOFTHSM2_CONF``) and its list of tokens once per process,
when the module is first loaded (``C_Initialize``): a token made afterwards stays invisible to
that process. So a process builds one token directory, with every key it needs, before anything
opens the module: the test session through the ``softhsm_token`` fixture (tests/conftest.py),
the benchmark at its start. The module is loaded under its real path, as ``signing.pkcs11``
loads it, because python-pkcs11 keeps one loaded module per name.

Each seal goes in as a private key (sensitive, not extractable) and its certificate, both with
the seal's label and a one-byte id; the issuing CA certificates go in too (labels ``ca-1``, …),
so the signer finds the chain on the token as it would on a production HSM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute
from pkcs11.util.ec import decode_ec_private_key
from pkcs11.util.rsa import decode_rsa_private_key
from pkcs11.util.x509 import decode_x509_certificate

from signing import Credential, Pkcs11Config

__all__ = ["SOFTHSM_MODULE", "SoftHsmToken", "create_token", "softhsm_missing"]

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SOFTHSM_UTIL = "softhsm2-util"
_SO_PIN = "so-pin-5678"


@dataclass(frozen=True)
class SoftHsmToken:
    module: Path
    label: str
    pin: str
    key_labels: tuple[str, ...]

    def config(self, key_label: str, *, pin: str | None = None) -> Pkcs11Config:
        return Pkcs11Config(module=self.module, token_label=self.label, key_label=key_label,
                            pin=self.pin if pin is None else pin)


def softhsm_missing() -> str | None:
    """What is missing for SoftHSM (Debian ``softhsm2``), or None when it is installed."""
    missing = [str(SOFTHSM_MODULE)] if not SOFTHSM_MODULE.is_file() else []
    if shutil.which(SOFTHSM_UTIL) is None:
        missing.append(SOFTHSM_UTIL)
    return ", ".join(missing) or None


def _private_key_template(credential: Credential) -> dict[Attribute, object]:
    key = credential.private_key
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    if isinstance(key, rsa.RSAPrivateKey):
        template = decode_rsa_private_key(der)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        template = decode_ec_private_key(der)
    else:
        raise TypeError(f"unsupported key type {type(key).__name__}")
    template.update({Attribute.SIGN: True, Attribute.DECRYPT: False, Attribute.UNWRAP: False,
                     Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
    return template


def create_token(directory: Path, label: str, pin: str, seals: Mapping[str, Credential]) -> SoftHsmToken:
    """Initialise a token in ``directory`` holding ``seals`` (key label → credential) and point
    this process's ``SOFTHSM2_CONF`` at it; call once per process, before the module is opened."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([SOFTHSM_UTIL, "--init-token", "--free", "--label", label, "--pin", pin,
                    "--so-pin", _SO_PIN], check=True, capture_output=True, timeout=60)
    der = serialization.Encoding.DER
    token = pkcs11.lib(os.path.realpath(SOFTHSM_MODULE)).get_token(token_label=label)
    with token.open(rw=True, user_pin=pin) as session:
        chain: dict[bytes, None] = {}
        for number, (key_label, credential) in enumerate(seals.items(), start=1):
            names = {Attribute.TOKEN: True, Attribute.LABEL: key_label, Attribute.ID: bytes([number])}
            session.create_object({**_private_key_template(credential), **names, Attribute.PRIVATE: True})
            certificate = decode_x509_certificate(credential.certificate.public_bytes(der))
            session.create_object({**certificate, **names})
            chain.update(dict.fromkeys(ca.public_bytes(der) for ca in credential.chain))
        for number, ca_der in enumerate(chain, start=1):
            session.create_object({**decode_x509_certificate(ca_der), Attribute.TOKEN: True,
                                   Attribute.LABEL: f"ca-{number}"})
    return SoftHsmToken(module=SOFTHSM_MODULE, label=label, pin=pin, key_labels=tuple(seals))
