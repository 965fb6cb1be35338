"""PAdES e-seals and signatures, their verification, RFC 3161 timestamps and key sources.

A pure library: configuration objects in, frozen dataclasses out, errors from one tree
(``signing.errors``). It imports no web framework, ORM or other package of the portal.

Typical use by the portal::

    pki = open_dev_pki(settings.data_dir / "pki")            # development; production: below
    trust = pki.trust_settings()                               # or TrustSettings(load_trust_roots(dir))
    tsa = DevTimestampClient(pki.tsa())                        # or HttpTimestampClient(url)

    # seal a service receipt with the portal's own seal, timestamped, validation data embedded
    portal = KeySigner.from_credential(pki.portal_seal())      # or load_pkcs12(path, password),
    # or an HSM: open_pkcs11_signer(Pkcs11Config(module=..., token_label=..., key_label=..., pin=...))
    settings = SignatureSettings(level=PadesLevel.B_LT, reason="送达回证",
                                 placement=SealPlacement(page=-1, box=(400, 80, 520, 200)))
    sealed = await async_sign_pdf(receipt_pdf, portal, settings, timestamps=tsa, trust=trust)

    # remote signing for a party after login (store the PartyKey, keep the secret elsewhere)
    party_key = create_party_key(pki, "张三", oidc_subject, secret)
    signed = await async_sign_pdf(consent_pdf, load_party_signer(party_key, secret),
                                  SignatureSettings(level=PadesLevel.B_T), timestamps=tsa)

    # evidence of arrival
    token = await async_timestamp_hash(tsa, event_sha256)      # TimestampUnavailable: retry later
    verify_timestamp(token.token, event_sha256, trust)         # TimestampInvalid if not

    # verification of an uploaded PDF, off the event loop, bounded in time and memory
    runner = VerificationRunner(VerificationContext(trust=trust))   # one per process
    report = await runner.verify(uploaded_bytes)               # never raises
    report.summary, report.indication, report.to_json_dict()

National-standard seals: ``verify_document(data, context)`` takes a PDF or an OFD (GB/T 33190)
and checks SM2 seals (GB/T 38540, GB/T 35275) beside PAdES; the runner uses it. The
development PKI has an SM2 half (``pki.sm2``: root, CAs, seal maker, TSA, CRLs), and
``signing.ofd_build`` seals OFD files with it.

``verify_pdf(data, context)`` is the same check in-process (synchronous, CPU bound) for
workers and the CLI. A new agency seal at run time: ``pki.agency_seal(name, uscc)``.
"""

from signing.documents import verify_document
from signing.errors import (
    ConfigurationError,
    FontNotFound,
    KeySourceError,
    PkiError,
    SigningError,
    SigningFailed,
    TimestampError,
    TimestampInvalid,
    TimestampUnavailable,
)
from signing.keys import (
    KeySigner,
    PartyCertificateIssuer,
    PartyKey,
    create_party_key,
    load_party_signer,
    load_pkcs12,
    party_pseudonym,
)
from signing.pkcs11 import Pkcs11Config, TokenSigner, open_pkcs11_signer
from signing.pki_dev import DevPki, open_dev_pki
from signing.profiles import CaName, Credential, KeyAlgorithm
from signing.report import (
    AlgorithmFamily,
    CertificateInfo,
    Coverage,
    FileProblem,
    Indication,
    ModificationLevel,
    ModificationReport,
    RevocationStatus,
    SealInfo,
    SignatureKind,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    VerificationReport,
)
from signing.runner import OWN_WORK, VerificationRunner
from signing.seal_image import SealStyle, draw_seal, find_cjk_font, seal_png
from signing.sign import PadesLevel, SealPlacement, SignatureSettings, async_sign_pdf, sign_pdf
from signing.timestamps import (
    DevSm2TimestampClient,
    DevTimestampClient,
    HttpTimestampClient,
    TimestampClient,
    TimestampToken,
    async_timestamp_hash,
    async_timestamp_sm3,
    async_verify_timestamp,
    timestamp_hash,
    verify_timestamp,
)
from signing.trust import RevocationMode, TrustSettings, load_trust_roots
from signing.verify import VerificationContext, verify_pdf

__all__ = [
    "OWN_WORK",
    "AlgorithmFamily",
    "CaName",
    "CertificateInfo",
    "ConfigurationError",
    "Coverage",
    "Credential",
    "DevPki",
    "DevSm2TimestampClient",
    "DevTimestampClient",
    "FileProblem",
    "FontNotFound",
    "HttpTimestampClient",
    "Indication",
    "KeyAlgorithm",
    "KeySigner",
    "KeySourceError",
    "ModificationLevel",
    "ModificationReport",
    "PadesLevel",
    "PartyCertificateIssuer",
    "PartyKey",
    "Pkcs11Config",
    "PkiError",
    "RevocationMode",
    "RevocationStatus",
    "SealInfo",
    "SealPlacement",
    "SealStyle",
    "SignatureKind",
    "SignatureReport",
    "SignatureSettings",
    "SigningError",
    "SigningFailed",
    "SubIndication",
    "TimestampClient",
    "TimestampError",
    "TimestampInfo",
    "TimestampInvalid",
    "TimestampToken",
    "TimestampUnavailable",
    "TokenSigner",
    "TrustSettings",
    "VerificationContext",
    "VerificationReport",
    "VerificationRunner",
    "async_sign_pdf",
    "async_timestamp_hash",
    "async_timestamp_sm3",
    "async_verify_timestamp",
    "create_party_key",
    "draw_seal",
    "find_cjk_font",
    "load_party_signer",
    "load_pkcs12",
    "load_trust_roots",
    "open_dev_pki",
    "open_pkcs11_signer",
    "party_pseudonym",
    "seal_png",
    "sign_pdf",
    "timestamp_hash",
    "verify_document",
    "verify_pdf",
    "verify_timestamp",
]
