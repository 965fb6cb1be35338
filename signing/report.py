"""The verification report: frozen dataclasses modelled on ETSI EN 319 102-1.

Each signature gets an *indication* (``TOTAL_PASSED``, ``TOTAL_FAILED``, ``INDETERMINATE``)
and, unless it passed, a *sub-indication* naming the reason in the standard's vocabulary,
plus one local addition: ``DISALLOWED_MODIFICATION`` (the signed revision is intact but a later
incremental update changed the document beyond what its signatures allow; EN 319 102-1 does
not model PDF revisions). The document gets the worst indication of its signatures and one
plain Chinese sentence at the top (``summary``) for the citizen; ``to_json_dict()`` gives the
same content to the HTTP API (bytes, e.g. a seal picture, as base64).
National-standard seals (GB/T 38540, OFD) fill the same shape, plus ``seal`` and, for OFD
packages, the files no signature protects. The sentences themselves live in ``signing.messages``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import functools
from dataclasses import dataclass
from typing import Any, cast

from signing.sign import PadesLevel

__all__ = [
    "AlgorithmFamily",
    "CertificateInfo",
    "Coverage",
    "FileProblem",
    "Indication",
    "ModificationLevel",
    "ModificationReport",
    "RevocationStatus",
    "SealInfo",
    "SignatureKind",
    "SignatureReport",
    "SubIndication",
    "TimestampInfo",
    "VerificationReport",
]


class Indication(enum.StrEnum):
    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def severity(self) -> int:
        return {"TOTAL_PASSED": 0, "INDETERMINATE": 1, "TOTAL_FAILED": 2}[self.value]


class SubIndication(enum.StrEnum):
    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    NOT_YET_VALID = "NOT_YET_VALID"
    DISALLOWED_MODIFICATION = "DISALLOWED_MODIFICATION"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    EXPIRED = "EXPIRED"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"


class SignatureKind(enum.StrEnum):
    SEAL = "SEAL"
    """Electronic seal of a legal person (电子印章)."""
    SIGNATURE = "SIGNATURE"
    """Electronic signature of a natural person (电子签名)."""


class AlgorithmFamily(enum.StrEnum):
    """The family of the signature algorithm: the two worlds the verifier speaks."""

    SM2 = "SM2"
    """国密 SM2 with SM3 (GB/T 32918, GB/T 38540 seals, GB/T 35275 CMS)."""
    RSA = "RSA"
    ECDSA = "ECDSA"
    OTHER = "OTHER"


class Coverage(enum.StrEnum):
    ENTIRE_FILE = "ENTIRE_FILE"
    ENTIRE_REVISION = "ENTIRE_REVISION"
    """The signed revision is whole; later incremental updates follow (see modifications)."""
    PARTIAL = "PARTIAL"
    """The byte range leaves out more than the signature itself: never acceptable."""


class ModificationLevel(enum.StrEnum):
    """pyhanko's modification levels, least to most invasive."""

    NONE = "NONE"
    LTA_UPDATES = "LTA_UPDATES"
    FORM_FILLING = "FORM_FILLING"
    ANNOTATIONS = "ANNOTATIONS"
    OTHER = "OTHER"


class RevocationStatus(enum.StrEnum):
    GOOD = "GOOD"
    REVOKED = "REVOKED"
    UNKNOWN = "UNKNOWN"
    TRUST_ANCHOR = "TRUST_ANCHOR"
    """Roots are trusted by configuration, not by revocation checks."""


class FileProblem(enum.StrEnum):
    """Why a whole file could not be verified (the report then has no per-signature verdicts)."""

    TOO_LARGE = "TOO_LARGE"
    NOT_PDF = "NOT_PDF"
    MALFORMED = "MALFORMED"
    UNSAFE_PACKAGE = "UNSAFE_PACKAGE"
    """An OFD package with unsafe names, duplicate entries or XML with a DTD."""
    ENCRYPTED = "ENCRYPTED"
    NO_SIGNATURES = "NO_SIGNATURES"
    TOO_COMPLEX = "TOO_COMPLEX"
    TOO_DEEP = "TOO_DEEP"
    ABNORMAL_STRUCTURE = "ABNORMAL_STRUCTURE"
    """A PDF refused before parsing: its trailer is not in a few short lines at the end, or it
    has more revisions than any real document (``signing.structure``)."""
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial_number: str
    """Hexadecimal."""
    not_before: dt.datetime
    not_after: dt.datetime
    revocation: RevocationStatus
    revoked_at: dt.datetime | None = None
    revocation_source: str | None = None
    """``"OCSP"`` or ``"CRL"``: which answer the status comes from."""


@dataclass(frozen=True)
class TimestampInfo:
    time: dt.datetime
    tsa: str
    valid: bool
    """Intact, cryptographically valid and from a trusted TSA."""


@dataclass(frozen=True)
class ModificationReport:
    level: ModificationLevel | None
    """``None`` when the analysis could not run (never treated as acceptable)."""
    allowed: bool
    """The changes are within what the document's signatures permit (pyhanko ``docmdp_ok``)."""
    later_revisions: int
    changed_form_fields: tuple[str, ...]
    detail: str | None
    """Why pyhanko found a change suspicious (English, from the analysis)."""
    description: str


@dataclass(frozen=True)
class SealInfo:
    """A GB/T 38540 seal as the signature carries it (the seal's own data, signed by its maker)."""

    name: str
    seal_id: str
    standard: str
    """``GB/T 38540-2020`` or ``GM/T 0031-2014``."""
    maker: str | None
    """Organisation of the seal maker's certificate (制章者)."""
    valid_from: dt.datetime
    valid_until: dt.datetime
    picture_type: str
    picture_png: bytes | None
    """The seal's picture re-drawn as PNG within decoding limits (``None``: not drawable)."""
    page: int | None
    """1-based page of the stamp (OFD ``StampAnnot``)."""
    box: tuple[float, float, float, float] | None
    """The stamp's box on that page in millimetres: x, y, width, height."""


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    indication: Indication
    sub_indication: SubIndication | None
    message: str
    kind: SignatureKind | None
    signer_name: str | None
    organisation: str | None
    organisation_id: str | None
    claimed_signing_time: dt.datetime | None
    timestamp: TimestampInfo | None
    archive_timestamp: TimestampInfo | None
    certificate_chain: tuple[CertificateInfo, ...]
    digest_algorithm: str | None
    signature_algorithm: str | None
    pades_level: PadesLevel | None
    """Highest baseline level actually reached; ``None`` for non-PAdES (adbe.pkcs7) signatures."""
    coverage: Coverage | None
    modifications: ModificationReport | None
    certifying: bool
    algorithm_family: AlgorithmFamily | None = None
    seal: SealInfo | None = None
    """The GB/T 38540 seal, for national-standard seal signatures."""


def benign_since(report: SignatureReport, names: set[str]) -> bool:
    """No change after this signature but signature maintenance or further signatures
    (``names``: the document's signature fields)."""
    mods = report.modifications
    if mods is None or mods.level is None:
        return False
    if mods.level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
        return True
    return mods.level is ModificationLevel.FORM_FILLING and set(mods.changed_form_fields) <= names


@dataclass(frozen=True)
class VerificationReport:
    indication: Indication
    sub_indication: SubIndication | None
    summary: str
    problem: FileProblem | None
    signatures: tuple[SignatureReport, ...]
    document_sha256: str
    size: int
    validated_at: dt.datetime
    document_format: str = "PDF"
    """``PDF`` or ``OFD``."""
    unprotected_files: tuple[str, ...] = ()
    """OFD: files of the package that no signature protects (they may change unnoticed)."""

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def changed_after_signing(self) -> bool:
        """Content changed after a signature, even a change the signatures permit (a form
        filled in, an annotation): what was sealed is not all the file shows."""
        names = {s.field_name for s in self.signatures}
        return any(not benign_since(s, names) for s in self.signatures)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON types: enums as their names, datetimes as ISO 8601 (UTC)."""
        result = cast(dict[str, Any], _jsonable(self))  # a dataclass's is a dict
        return {**result, "changed_after_signing": self.changed_after_signing}


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(item.name for item in dataclasses.fields(kind))


def _jsonable(value: object) -> object:
    """``value`` in plain JSON types, dataclasses read field by field (what
    ``dataclasses.asdict`` gives, without its deep copy of every value: a fifth of the web
    process's time per verification)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _jsonable(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
