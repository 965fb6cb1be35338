"""PKCS#11 key source: a seal key that never leaves its token (an HSM; SoftHSM in the tests).

``open_pkcs11_signer(Pkcs11Config(...))`` loads the vendor's module, logs in to the token,
finds the private key and the certificate stored under the same label (or id), takes the CA
certificates on the token as the chain, and returns a ``TokenSigner``: pyhanko's
``PKCS11Signer`` with the PAdES attribute set encoded once (``pades_signed_attributes``) and
with the locking below. Before it is handed out, it signs a probe and checks the signature
against the certificate, so a key that does not belong to its certificate, or a mechanism the
token lacks, stops start-up instead of the first seal. EC keys sign with the raw ``CKM_ECDSA``
mechanism over a digest computed here: every EC token has it, while the hash-and-sign variants
are optional (SoftHSM 2.6 lacks them). A certificate with an SM2 key is refused: PKCS#11 defines
no SM2 mechanism, and ECDSA on the SM2 curve is not SM2 (``signing.sm2_signer``).

Concurrency: one lock per module, not a pool of sessions. python-pkcs11 initialises a module
with ``C_Initialize(NULL)``, which under PKCS#11 (v2.40, "C_Initialize") promises the module
that the application will not call it from several threads at once; SoftHSM then turns its
own mutexes off. So not only must one session never run two operations at a time: no two
calls may be inside the module at the same time, whatever their session. A pool of sessions
would buy no parallelism and would break that promise (python-pkcs11's own per-session lock
covers one session's operations, not other sessions or attribute reads). Every call into a
module (open, object search, sign, close) therefore takes the module's lock. The signature is
the only part of a PAdES signature done under it (about 1 ms of RSA-2048 in SoftHSM, against
5-10 ms of PDF work outside it), and the waiting happens in a worker thread, never on the
event loop.

Login state belongs to the application and the token, not the session: a second ``C_Login``
fails with ``CKR_USER_ALREADY_LOGGED_IN`` and ``C_Logout`` on any session logs out all of them.
So every ``TokenSigner`` on the same token in one process shares one logged-in session,
reference-counted: the last ``close()`` logs out and closes it. A later opener must present the
same PIN (checked in constant time), or it is refused like a wrong PIN.

A session lost underneath (the HSM restarted, the session handle went stale, someone logged
out) is reopened with the same PIN and the signature retried once. The PIN is kept in memory
for that reason only; it never appears in a ``repr``, an error message or a log.

    Pkcs11Config(module=Path("/usr/lib/softhsm/libsofthsm2.so"), token_label="portal-seal",
                 key_label="portal-seal", pin=pin)
"""

from __future__ import annotations

import asyncio
import hmac
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from pkcs11 import exceptions as p11_errors
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session, select_pkcs11_signing_params
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidationContext

from signing.errors import ConfigurationError, KeySourceError
from signing.keys import pades_signed_attributes
from signing.sm2 import is_sm2_key

__all__ = ["Pkcs11Config", "TokenSigner", "open_pkcs11_signer"]

_PROBE = b"signing/pkcs11: does this key belong to this certificate?"

# Errors after which a fresh session may succeed where the old one failed.
_SESSION_LOST = (
    p11_errors.SessionHandleInvalid,
    p11_errors.SessionClosed,
    p11_errors.UserNotLoggedIn,
    p11_errors.DeviceRemoved,
    p11_errors.DeviceError,
    p11_errors.TokenNotPresent,
    p11_errors.KeyHandleInvalid,
    p11_errors.ObjectHandleInvalid,
)
_PIN_ERRORS: dict[type[Exception], str] = {
    p11_errors.PinIncorrect: "wrong PIN",
    p11_errors.PinLocked: "the PIN is locked",
    p11_errors.PinExpired: "the PIN has expired",
    p11_errors.PinInvalid: "the PIN is not valid for this token",
    p11_errors.PinLenRange: "the PIN is not valid for this token",
    p11_errors.UserPinNotInitialized: "the token's user PIN is not initialised",
}


@dataclass(frozen=True, kw_only=True)
class Pkcs11Config:
    """Where a signing key lives in a PKCS#11 token and how to log in to it
    (after pyHanko's ``PKCS11SignatureConfig``)."""

    module: Path
    """The vendor's PKCS#11 library, e.g. ``/usr/lib/softhsm/libsofthsm2.so``."""

    token_label: str | None = None
    """The token's label; or ``slot``."""

    slot: int | None = None
    """Position in the module's slot list (not the PKCS#11 slot id), for a token without a
    unique label; with ``token_label`` too, the token in that slot must carry that label."""

    key_label: str | None = None
    """Label of the private key; the certificate is found under the same label."""

    key_id: bytes | None = None
    """``CKA_ID`` of the private key (and of its certificate), instead of or besides the label."""

    pin: str = field(repr=False)
    """The user PIN."""

    def __post_init__(self) -> None:
        if self.token_label is None and self.slot is None:
            raise ConfigurationError("PKCS#11: name the token by its label or its slot")
        if self.key_label is None and self.key_id is None:
            raise ConfigurationError("PKCS#11: name the key by its label or its id")
        if not self.pin:
            raise ConfigurationError("PKCS#11: the token's user PIN is required")

    @property
    def token_name(self) -> str:
        """How messages name the token (never with the PIN)."""
        return repr(self.token_label) if self.token_label is not None else f"in slot {self.slot}"

    @property
    def key_name(self) -> str:
        return repr(self.key_label) if self.key_label is not None else f"with id {self.key_id!r}"


_registry_lock = threading.Lock()
_module_locks: dict[str, threading.Lock] = {}
_open_tokens: dict[tuple[str, str | None, int | None], _OpenToken] = {}


class _OpenToken:
    """The one logged-in session of this process on one token, shared by its signers."""

    def __init__(self, module: str, config: Pkcs11Config, lock: threading.Lock) -> None:
        self.module = module
        self.config = config
        self.lock = lock
        self.users = 0
        self.generation = 0
        self.closed = False
        self.session: Any = self._login()

    def _login(self) -> Any:
        """A new logged-in session; the caller holds ``lock``."""
        config = self.config
        criteria = TokenCriteria(label=config.token_label) if config.token_label is not None else None
        try:
            return open_pkcs11_session(self.module, slot_no=config.slot, token_criteria=criteria,
                                       user_pin=config.pin)
        except tuple(_PIN_ERRORS) as exc:
            raise KeySourceError(f"PKCS#11 token {config.token_name}: {_PIN_ERRORS[type(exc)]}") from exc
        except p11_errors.UserAlreadyLoggedIn as exc:
            raise KeySourceError(f"PKCS#11 token {config.token_name} is already logged in by another "
                                 "opener in this process (name the token the same way)") from exc
        except p11_errors.PKCS11Error as exc:
            detail = str(exc) or type(exc).__name__
            raise KeySourceError(f"cannot open PKCS#11 token {config.token_name}: {detail}") from exc

    def reopen(self) -> None:
        """Replace a lost session; the caller holds ``lock``."""
        if self.closed:
            raise KeySourceError("the PKCS#11 signer is closed")
        try:
            self.session.close()
        except p11_errors.PKCS11Error:
            pass  # it is gone already: that is why we are here
        self.session = self._login()
        self.generation += 1

    def same_pin(self, pin: str) -> bool:
        return hmac.compare_digest(pin.encode(), self.config.pin.encode())


def _acquire(config: Pkcs11Config) -> _OpenToken:
    """The process's session on the configured token, opened (and logged in) if need be."""
    if not config.module.is_file():
        raise ConfigurationError(f"PKCS#11 module not found: {config.module}")
    module = os.path.realpath(config.module)  # one module loaded once, however it is named
    key = (module, config.token_label, config.slot)
    with _registry_lock:
        token = _open_tokens.get(key)
        if token is None:
            lock = _module_locks.setdefault(module, threading.Lock())
            with lock:
                try:
                    pkcs11.lib(module)
                except p11_errors.PKCS11Error as exc:
                    raise ConfigurationError(
                        f"cannot load the PKCS#11 module {config.module}: {exc}") from exc
                token = _OpenToken(module, config, lock)
            _open_tokens[key] = token
        elif not token.same_pin(config.pin):
            raise KeySourceError(f"PKCS#11 token {config.token_name}: wrong PIN")
        token.users += 1
        return token


def _release(token: _OpenToken) -> None:
    with _registry_lock:
        token.users -= 1
        if token.users > 0:
            return
        _open_tokens.pop((token.module, token.config.token_label, token.config.slot), None)
        with token.lock:
            token.closed = True
            try:
                token.session.close()  # C_Logout, then C_CloseSession
            except p11_errors.PKCS11Error:
                pass  # a session the token already dropped needs no closing


class TokenSigner(PKCS11Signer):
    """pyhanko's ``PKCS11Signer`` over a shared, locked session; made by ``open_pkcs11_signer``.

    Safe to share between threads and event loops. ``close()`` (or leaving a ``with`` block)
    gives its share of the session back; signing afterwards raises ``KeySourceError``.
    """

    def __init__(self, token: _OpenToken, config: Pkcs11Config) -> None:
        # other_certs_to_pull=None: every certificate on the token is read (CAs kept, see below)
        super().__init__(token.session, key_label=config.key_label, key_id=config.key_id,
                         other_certs_to_pull=None)
        self._token: _OpenToken | None = token
        self._generation = token.generation
        self._config = config

    def _load_other_certs(self) -> set[asn1_x509.Certificate]:
        # The chain is the token's CA certificates; other seals' certificates stay out of the CMS.
        return {cert for cert in super()._load_other_certs() if cert.ca}

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:  # pyhanko's size estimate; the token is not involved
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        return await asyncio.to_thread(self.sign_now, data, digest_algorithm)

    def sign_now(self, data: bytes, digest_algorithm: str) -> bytes:
        """The raw signature of ``data``, blocking (a thread, or start-up)."""
        spec = select_pkcs11_signing_params(
            self.get_signature_mechanism_for_digest(digest_algorithm.lower()), digest_algorithm.lower(),
            use_raw_mechanism=self.use_raw_mechanism, sign_kwargs=self.sign_kwargs(data))
        payload = spec.pre_sign_transform(data) if spec.pre_sign_transform else data
        token = self._token
        if token is None:
            raise KeySourceError("the PKCS#11 signer is closed")
        with token.lock:
            signature = self._sign_locked(token, payload, spec.sign_kwargs)
        return spec.post_sign_transform(signature) if spec.post_sign_transform else signature

    def _sign_locked(self, token: _OpenToken, payload: bytes, kwargs: dict[str, Any]) -> bytes:
        for attempt in (1, 2):
            if token.closed:
                raise KeySourceError("the PKCS#11 signer is closed")
            try:
                if self._generation != token.generation:  # another signer reopened the session
                    self._follow(token)
                signature: bytes = self._key_handle.sign(payload, **kwargs)  # type: ignore[union-attr]
                return signature
            except _SESSION_LOST as exc:
                if attempt == 2:
                    raise KeySourceError(f"PKCS#11 token {self._config.token_name}: "
                                         f"session lost ({type(exc).__name__})") from exc
                token.reopen()
            except p11_errors.PKCS11Error as exc:
                raise KeySourceError(f"PKCS#11 token {self._config.token_name} "
                                     f"refused to sign: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")

    def _follow(self, token: _OpenToken) -> None:
        """Move to the token's current session: the key handle belongs to the old one."""
        self.pkcs11_session = token.session
        self._key_handle = self._pull_signing_key_handle()
        self._generation = token.generation

    def close(self) -> None:
        """Give back this signer's share of the session (the last one logs out); idempotent."""
        token, self._token = self._token, None
        if token is not None:
            _release(token)

    def __enter__(self) -> TokenSigner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_pkcs11_signer(config: Pkcs11Config) -> TokenSigner:
    """Log in to the configured token and return a checked signer for the configured key.

    ``ConfigurationError``: the module is missing or cannot be loaded. ``KeySourceError``: no
    such token, a wrong PIN, no such key or certificate, an unsupported key type, or a key that
    does not belong to its certificate.
    """
    token = _acquire(config)
    try:
        with token.lock:
            signer = TokenSigner(token, config)
            try:
                cert = signer.signing_cert  # pulls the certificates and the key handle now
            except p11_errors.PKCS11Error as exc:
                raise KeySourceError(
                    f"PKCS#11 token {config.token_name}, key {config.key_name}: {exc}") from exc
        algorithm = cert.public_key.algorithm
        if algorithm not in ("rsa", "ec"):
            raise KeySourceError(f"only RSA and EC keys are supported, the token's key is {algorithm}")
        if is_sm2_key(cert.public_key):
            raise KeySourceError(
                "the token's certificate is SM2: PKCS#11 has no standard SM2 mechanism (CKM_ECDSA on "
                "the SM2 curve is ECDSA, not SM2); use an SM2 key file (PORTAL_SEAL_SM2_KEY)")
        signer.use_raw_mechanism = algorithm == "ec"
        _check_key_matches(signer, config)
        pades_signed_attributes(signer)
    except BaseException:
        _release(token)
        raise
    return signer


def _check_key_matches(signer: TokenSigner, config: Pkcs11Config) -> None:
    signature = signer.sign_now(_PROBE, "sha256")
    try:
        DefaultSignatureValidator().validate_signature(
            signature, _PROBE, signer.signing_cert.public_key,
            signer.get_signature_mechanism_for_digest("sha256"),
            SignatureValidationContext(contextual_md_algorithm="sha256"))
    except InvalidSignature:
        raise KeySourceError(
            f"PKCS#11 token {config.token_name}: key {config.key_name} does not belong to its certificate"
        ) from None
