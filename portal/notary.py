"""The portal's signing services, set up from settings in exactly one place: ``Notary``.

Trust, the portal's own seal, the time-stamping authority and the verification worker pool
must agree with each other: a seal whose chain the trust settings do not hold, or a TSA they
do not trust, yields documents that the portal's own verifier (and anybody else's) rejects.
So they are chosen together, from ``Settings.signing``, here and nowhere else:

* **development** (none of ``TRUST_ROOTS_DIR``, the seal, ``TSA_URL`` set): the
  development PKI under ``DATA_DIR/pki`` (generated on first use under a file lock, so the web
  server, workers and the browser tests' helpers may race for it), its portal seal, its
  in-process TSA and its in-process CRL/OCSP answers. It is opened once per directory per
  process and shared by every app created in that process;
* **production** (all three set; ``portal.settings`` refuses a partial set): the CA
  certificates in ``TRUST_ROOTS_DIR``, the seal key and certificate from the PKCS#12 file or
  from the PKCS#11 token (an HSM: the key never leaves it; ``signing.pkcs11``), RFC 3161 over
  HTTP to ``TSA_URL``, revocation fetched online. They are loaded when the ``Notary`` is
  built, so a wrong path, password or PIN stops start-up; nothing in this path touches or
  assumes the development PKI. ``aclose()`` logs out of the token.

The national-standard seal (GB/T 38540) is an SM2 key with its certificate and, for OFD
documents, its GB/T 38540 seal (``PORTAL_SEAL_SM2_*``; ``signing.sm2_signer`` checks key,
certificate and seal against each other at start-up). It seals OFD documents (``seal_ofd``),
and the PDFs too when no PKCS#12 or PKCS#11 seal is configured (PAdES with SM2/SM3 CMS). In
development it is the development PKI's SM2 seal of the portal, made by its seal maker; PDFs
keep the RSA seal there. An OFD seal signature carries an RFC 3161 timestamp over its
signature value (GB/T 38540 ``timeStamp``), which shows the seal was used while its
certificate was valid once that certificate has expired, as the PDFs' B-LT timestamp does:
from ``TSA_URL`` in production, from the development SM2 PKI's TSA in development (an
all-SM2 document, as a national-standard TSA would make it).

Costs are paid when first needed: the development PKI is opened by ``start()`` (the app's
lifespan) or by the first use, and the ``VerificationRunner``'s worker processes are created by
the first verification. Building an app, which every test does, costs nothing here. ::

    notary = Notary.from_settings(settings)           # app (lifespan closes it), CLI, worker
    report = await notary.verify(uploaded, client=key)  # in a worker process, never raises
    problem = await notary.attachment_problem(pdf, client=key)  # a party's PDF: does it open?
    sealed = await notary.seal(pdf, placement, reason=catalogue.SEAL_REASONS["receipt"])
    sealed_ofd = await notary.seal_ofd(ofd, box_mm=(150.0, 20.0, 40.0, 40.0))
    await notary.aclose()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pyhanko.sign.signers import Signer

from portal import metrics
from portal.errors import ConfigurationError
from portal.settings import Settings, SigningSettings
from signing import (
    OWN_WORK,
    DevPki,
    DevSm2TimestampClient,
    DevTimestampClient,
    FileProblem,
    HttpTimestampClient,
    KeySigner,
    PadesLevel,
    Pkcs11Config,
    SealPlacement,
    SignatureSettings,
    SigningError,
    TimestampClient,
    TokenSigner,
    TrustSettings,
    VerificationContext,
    VerificationReport,
    VerificationRunner,
    async_timestamp_sm3,
    load_pkcs12,
    load_trust_roots,
    open_dev_pki,
    open_pkcs11_signer,
    sign_pdf,
)
from signing.ofd_build import SignedValueKind, seal_ofd, timestamp_newest_seal
from signing.sm2_signer import Sm2Seal, Sm2Signer, load_sm2_seal

__all__ = ["PKI_DIR", "Notary", "SigningServices", "dev_pki_dir", "development_services",
           "production_services"]

PKI_DIR = "pki"
"""The development PKI's folder inside ``DATA_DIR``."""


@dataclass(frozen=True)
class SigningServices:
    """What the portal signs with and trusts; ``dev_pki`` only in development."""

    trust: TrustSettings
    seal_signer: Signer
    timestamps: TimestampClient
    dev_pki: DevPki | None = None
    sm2_seal: Sm2Seal | None = None
    """The national-standard seal; OFD documents need it with its GB/T 38540 seal."""
    seal_timestamps: TimestampClient | None = None
    """The TSA of the OFD seals' ``timeStamp``, when not ``timestamps``."""

    @property
    def ofd_timestamps(self) -> TimestampClient:
        return self.seal_timestamps or self.timestamps

    def close(self) -> None:
        """Release what the seal holds open: the token session of an HSM seal; idempotent."""
        if isinstance(self.seal_signer, TokenSigner):
            self.seal_signer.close()


def dev_pki_dir(data_dir: Path) -> Path:
    return data_dir / PKI_DIR


_dev_lock = threading.Lock()
_dev_services: dict[Path, SigningServices] = {}


def development_services(directory: Path) -> SigningServices:
    """The development PKI in ``directory`` (created on first call), once per process."""
    key = directory.resolve()
    with _dev_lock:
        if key not in _dev_services:
            pki = open_dev_pki(key)
            credential, seal = pki.sm2.seal_file(pki.portal_name, None)
            _dev_services[key] = SigningServices(
                trust=pki.trust_settings(),
                seal_signer=KeySigner.from_credential(pki.portal_seal()),
                timestamps=DevTimestampClient(pki.tsa()),
                dev_pki=pki,
                sm2_seal=Sm2Seal(Sm2Signer.from_credential(credential), seal),
                seal_timestamps=DevSm2TimestampClient(pki.sm2.tsa()),
            )
        return _dev_services[key]


def production_services(config: SigningSettings) -> SigningServices:
    """Trust roots, seal and TSA as configured; ``ConfigurationError`` if any cannot be used.

    The caller owns the result: ``close()`` it when done (an HSM seal holds a token session).
    """
    seal = config.portal_seal_pkcs11 or config.portal_seal_p12
    if config.trust_roots_dir is None or config.tsa_url is None or (
            seal is None and config.portal_seal_sm2_key is None):
        raise ConfigurationError("TRUST_ROOTS_DIR, the portal's seal and TSA_URL are all required")
    try:
        trust = TrustSettings(trust_roots=load_trust_roots(config.trust_roots_dir),
                              revocation_hosts=config.revocation_hosts)
        timestamps = HttpTimestampClient(config.tsa_url)
        sm2 = _sm2_seal(config)
        # last: a token stays open; without PKCS#12 or PKCS#11 the SM2 seal seals PDFs too
        signer = _seal_signer(seal, config.portal_seal_p12_password) if seal is not None else None
    except SigningError as exc:
        raise ConfigurationError(f"signing settings: {exc}") from exc
    pdf_signer = signer if signer is not None else sm2.signer if sm2 is not None else None
    if pdf_signer is None:
        raise ConfigurationError("the portal's seal could not be loaded")
    return SigningServices(trust=trust, seal_signer=pdf_signer, timestamps=timestamps, sm2_seal=sm2)


def _sm2_seal(config: SigningSettings) -> Sm2Seal | None:
    if config.portal_seal_sm2_key is None or config.portal_seal_sm2_cert is None:
        return None
    password = config.portal_seal_sm2_key_password
    return load_sm2_seal(config.portal_seal_sm2_key, config.portal_seal_sm2_cert,
                         password.encode() if password else None, config.portal_seal_sm2_seal)


def _seal_signer(seal: Pkcs11Config | Path, p12_password: str | None) -> Signer:
    if isinstance(seal, Pkcs11Config):
        return open_pkcs11_signer(seal)
    return load_pkcs12(seal, p12_password.encode() if p12_password else None)


class Notary:
    """The portal's seal, its TSA, its trust and its verification pool; one per process."""

    def __init__(self, load: Callable[[], SigningServices], *, workers: int = 2,
                 time_budget: float = 20.0, owned: SigningServices | None = None) -> None:
        self._load = load
        self._owned = owned  # closed by aclose(); the shared development services never are
        self._services: SigningServices | None = None
        self._runner: VerificationRunner | None = None
        self.workers = workers
        self.time_budget = time_budget

    @classmethod
    def from_settings(cls, settings: Settings) -> Notary:
        config = settings.signing
        if config.development:
            directory = dev_pki_dir(settings.dev_keys_dir)
            return cls(lambda: development_services(directory), workers=config.verify_workers)
        services = production_services(config)  # now: a bad path, password or PIN stops start-up
        return cls(lambda: services, workers=config.verify_workers, owned=services)

    async def services(self) -> SigningServices:
        """The loaded services; the first call may generate the development PKI (in a thread)."""
        if self._services is None:
            self._services = await asyncio.to_thread(self._load)
        return self._services

    async def start(self) -> None:
        """Load everything now (at start-up) rather than during the first request."""
        await self.services()

    async def verification_context(self) -> VerificationContext:
        return VerificationContext(trust=(await self.services()).trust)

    async def verify(self, data: bytes, *, client: str = OWN_WORK) -> VerificationReport:
        """Verify a PDF or OFD in a worker process with time and memory limits; never raises.

        ``client`` is whom the file came from (``portal.web.client.client_key``, or
        ``api_client_key`` for an agency's API call), for the workers' fairness between
        clients; the default is the portal's own documents."""
        runner = await self._verification_runner()
        with metrics.verifications():
            return await runner.verify(data, client=client)

    async def attachment_problem(self, data: bytes, *, client: str) -> FileProblem | None:
        """Why a party's PDF attachment cannot be accepted, or ``None`` when it opens: parsed
        in a worker process with the same limits as a verification, never in this one."""
        runner = await self._verification_runner()
        return await runner.attachment_problem(data, client=client)

    async def _verification_runner(self) -> VerificationRunner:
        services = await self.services()
        if self._runner is None:  # no await between the test and the assignment
            self._runner = VerificationRunner(VerificationContext(trust=services.trust),
                                              workers=self.workers, time_budget=self.time_budget,
                                              on_worker_lost=metrics.verification_worker_lost)
        return self._runner

    async def seal(self, pdf: bytes, placement: SealPlacement | None, *, reason: str,
                   location: str | None = None) -> bytes:
        """Seal ``pdf`` with the portal's seal at PAdES B-LT: signature timestamp from the TSA,
        certificates and revocation answers embedded, so anyone can check it offline later.

        ``placement`` puts the visible round seal on a page (``None``: invisible). Runs in a
        thread: hashing and writing the PDF are CPU work. Raises ``signing.SigningFailed`` for
        a PDF that cannot be signed and ``signing.TimestampUnavailable`` when the TSA is down.
        """
        services = await self.services()
        digest = "sm3" if isinstance(services.seal_signer, Sm2Signer) else "sha256"
        settings = SignatureSettings(level=PadesLevel.B_LT, placement=placement, reason=reason,
                                     location=location, md_algorithm=digest)
        return await asyncio.to_thread(sign_pdf, pdf, services.seal_signer, settings,
                                       timestamps=services.timestamps, trust=services.trust)

    async def seal_ofd(self, ofd: bytes, *, page_id: str = "1",
                       box_mm: tuple[float, float, float, float]) -> bytes:
        """Seal ``ofd`` with the portal's GB/T 38540 seal (an SES signature over its
        ``Signature.xml``, every file of the package protected), the stamp at ``box_mm`` on
        page ``page_id``, the signature value timestamped by the TSA. ``ConfigurationError``
        when no SM2 seal with its seal file is set, ``signing.TimestampUnavailable`` when the
        TSA is down (nothing is returned without the timestamp: the caller retries)."""
        services = await self.services()
        sm2 = services.sm2_seal
        if sm2 is None or sm2.seal is None:
            raise ConfigurationError("OFD documents need the SM2 seal and its GB/T 38540 seal file "
                                     "(PORTAL_SEAL_SM2_KEY, _CERT and _SEAL)")
        sealed = await asyncio.to_thread(seal_ofd, ofd, SignedValueKind.SES, sm2.signer.certificate,
                                         sm2.signer.key, seal=sm2.seal, page_id=page_id, box_mm=box_mm)
        tsa = services.ofd_timestamps
        return await timestamp_newest_seal(sealed, lambda value: async_timestamp_sm3(tsa, value))

    async def aclose(self) -> None:
        """Stop the verification worker processes and log out of an HSM seal's token (the app's
        lifespan calls this at shutdown)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await asyncio.to_thread(runner.close)
        owned, self._owned = self._owned, None
        if owned is not None:
            await asyncio.to_thread(owned.close)

    async def __aenter__(self) -> Notary:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()
