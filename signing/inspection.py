"""What a signature says about itself, read into report values (no verdicts here).

``verdict.py`` decides indications; this module answers the descriptive questions it needs:
who signed and in which capacity (seal of a legal person or signature of a natural person),
which algorithms, what the certificate chain is and what revocation data said about each
link, which PAdES level the file actually reaches, and what changed after signing.

Seal or signature, decided from the signer's certificate in this order:
1. certificate policies: the development PKI's organisation-seal / natural-person policies and
   ETSI EN 319 411-2's QCP-l(-qscd) (legal person) / QCP-n(-qscd) (natural person);
2. otherwise the subject: a given name, surname or pseudonym means a person; an organisation
   name with an organisation identifier (unified social credit code), or with the common name
   equal to the organisation name, means a seal; anything else is read as a person's signature.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from asn1crypto import cms, crl, ocsp, x509
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, SuspiciousModification
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator.path import ValidationPath

from signing import messages
from signing.profiles import NATURAL_PERSON_POLICY, ORGANISATION_SEAL_POLICY
from signing.report import (
    AlgorithmFamily,
    CertificateInfo,
    Coverage,
    ModificationLevel,
    ModificationReport,
    RevocationStatus,
    SignatureKind,
    TimestampInfo,
)
from signing.sign import PadesLevel
from signing.sm2 import SM2_SIGNATURE_OIDS, SM3_OID, is_sm2_key

__all__ = [
    "PADES_SUBFILTER",
    "EmbeddedValidationData",
    "algorithm_family",
    "certificate_chain",
    "coverage_of",
    "modification_report",
    "pades_level",
    "revocation_of",
    "signer_profile",
    "timestamp_info",
    "tsa_name",
    "unsupported_algorithm",
]

PADES_SUBFILTER = "/ETSI.CAdES.detached"
_SEAL_POLICIES = {ORGANISATION_SEAL_POLICY, "0.4.0.194112.1.1", "0.4.0.194112.1.3"}
_PERSON_POLICIES = {NATURAL_PERSON_POLICY, "0.4.0.194112.1.0", "0.4.0.194112.1.2"}
_DIGESTS = {"sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "sha1"}
_SIGNATURES = {"rsassa_pkcs1v15", "rsassa_pss", "ecdsa", "ed25519", "ed448"}
_CURVES = {"secp256r1", "secp384r1", "secp521r1"}


Profile = tuple[SignatureKind, str | None, str | None, str | None]


def signer_profile(cert: x509.Certificate) -> Profile:
    """``(kind, common name, organisation, organisation identifier)`` of a signer; once per
    certificate in a process (reading the subject and the policies extension of each
    document's freshly parsed certificate was about 7% of verifying a sealed PDF)."""
    return _profile_of(cert.dump())


@functools.lru_cache(maxsize=256)
def _profile_of(der: bytes) -> Profile:
    cert = x509.Certificate.load(der)
    subject = cert.subject.native
    common_name = _text(subject.get("common_name"))
    organisation = _text(subject.get("organization_name"))
    organisation_id = _text(subject.get("organization_identifier"))
    policies = {info["policy_identifier"].dotted for info in (cert.certificate_policies_value or ())}
    if policies & _SEAL_POLICIES:
        kind = SignatureKind.SEAL
    elif policies & _PERSON_POLICIES:
        kind = SignatureKind.SIGNATURE
    elif any(key in subject for key in ("given_name", "surname", "pseudonym")):
        kind = SignatureKind.SIGNATURE
    elif organisation and (organisation_id or common_name in (None, organisation)):
        kind = SignatureKind.SEAL
    else:
        kind = SignatureKind.SIGNATURE
    return kind, common_name, organisation, organisation_id


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def unsupported_algorithm(signer_info: cms.SignerInfo, cert: x509.Certificate) -> str | None:
    """Name of an algorithm in this signature the validator cannot check, or ``None``."""
    digest = signer_info["digest_algorithm"]["algorithm"]
    signature = signer_info["signature_algorithm"]["algorithm"]
    key = cert.public_key["algorithm"]
    national = (digest.dotted == SM3_OID, signature.dotted in SM2_SIGNATURE_OIDS, is_sm2_key(cert.public_key))
    if any(national):
        # SM2 is checked (signing.sm2) only as a whole: SM3 digest, SM2 signature, SM2 key.
        return None if all(national) else "SM2/SM3"
    if key["algorithm"].native == "ec":
        curve = key["parameters"].chosen
        if curve.native not in _CURVES:
            return f"EC curve {curve.native}"
    if digest.native not in _DIGESTS:
        return f"digest {digest.dotted}"
    try:
        mechanism = signer_info["signature_algorithm"].signature_algo
    except ValueError:
        return f"signature {signature.dotted}"
    return None if mechanism in _SIGNATURES else f"signature {mechanism}"


def algorithm_family(cert: x509.Certificate) -> AlgorithmFamily:
    """国密 SM2, RSA or ECDSA, from the signer's key (the signature algorithm must match it)."""
    if is_sm2_key(cert.public_key):
        return AlgorithmFamily.SM2
    return {"rsa": AlgorithmFamily.RSA, "rsassa_pss": AlgorithmFamily.RSA, "ec": AlgorithmFamily.ECDSA}.get(
        cert.public_key.algorithm, AlgorithmFamily.OTHER
    )


def revocation_of(
    cert: x509.Certificate,
    crls: Iterable[crl.CertificateList],
    ocsps: Iterable[ocsp.OCSPResponse],
) -> tuple[RevocationStatus, dt.datetime | None, str | None]:
    """What the given OCSP responses (first) or CRLs say about ``cert``."""
    for response in ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                cert_id = single["cert_id"]
                algorithm = cert_id["hash_algorithm"]["algorithm"].native
                name_hash = hashlib.new(algorithm, cert.issuer.dump()).digest()
                if (cert_id["serial_number"].native, cert_id["issuer_name_hash"].native) != (
                    cert.serial_number,
                    name_hash,
                ):
                    continue
                status = single["cert_status"]
                if status.name == "good":
                    return RevocationStatus.GOOD, None, "OCSP"
                if status.name == "revoked":
                    return RevocationStatus.REVOKED, status.chosen["revocation_time"].native, "OCSP"
        except (KeyError, ValueError, TypeError):
            continue
    for certificate_list in crls:
        tbs = certificate_list["tbs_cert_list"]
        if tbs["issuer"] != cert.issuer:
            continue
        for entry in tbs["revoked_certificates"] or ():
            if entry["user_certificate"].native == cert.serial_number:
                return RevocationStatus.REVOKED, entry["revocation_date"].native, "CRL"
        return RevocationStatus.GOOD, None, "CRL"
    return RevocationStatus.UNKNOWN, None, None


def certificate_chain(
    signer_cert: x509.Certificate,
    path: ValidationPath | None,
    crls: list[crl.CertificateList],
    ocsps: list[ocsp.OCSPResponse],
) -> tuple[CertificateInfo, ...]:
    """The chain from the signer up to the trust anchor (just the signer if none was found)."""
    certs = list(reversed(list(path))) if path is not None else [signer_cert]
    chain = []
    for index, cert in enumerate(certs):
        anchor = path is not None and index == len(certs) - 1
        status, revoked_at, source = (
            (RevocationStatus.TRUST_ANCHOR, None, None) if anchor else revocation_of(cert, crls, ocsps)
        )
        chain.append(
            CertificateInfo(
                subject=cert.subject.human_friendly,
                issuer=cert.issuer.human_friendly,
                serial_number=format(cert.serial_number, "x"),
                not_before=cert.not_valid_before,
                not_after=cert.not_valid_after,
                revocation=status,
                revoked_at=revoked_at,
                revocation_source=source,
            )
        )
    return tuple(chain)


def coverage_of(level: SignatureCoverageLevel | None) -> Coverage:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION
    return Coverage.PARTIAL


def timestamp_info(status: TimestampSignatureStatus | None) -> TimestampInfo | None:
    if status is None:
        return None
    timestamp: dt.datetime = status.timestamp
    return TimestampInfo(
        time=timestamp.astimezone(dt.UTC),
        tsa=tsa_name(status.signing_cert),
        valid=bool(status.intact and status.valid and status.trusted),
    )


def tsa_name(cert: x509.Certificate) -> str:
    """How a report names a time-stamping authority: its certificate's common name."""
    return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)


def modification_report(
    coverage: Coverage,
    diff_result: DiffResult | SuspiciousModification | None,
    docmdp_ok: bool | None,
    later_revisions: int,
    signature_fields: set[str],
) -> ModificationReport:
    """Describe what happened to the document after this signature, in the report's terms."""
    detail = None
    changed: tuple[str, ...] = ()
    level: ModificationLevel | None
    if isinstance(diff_result, DiffResult):
        level = ModificationLevel(diff_result.modification_level.name)
        changed = tuple(sorted(diff_result.changed_form_fields))
    elif isinstance(diff_result, SuspiciousModification):
        level, detail = ModificationLevel.OTHER, str(diff_result)
    elif coverage is Coverage.ENTIRE_FILE:
        level = ModificationLevel.NONE
    else:
        level = None
    allowed = bool(docmdp_ok) and level is not None and level is not ModificationLevel.OTHER
    return ModificationReport(
        level=level,
        allowed=allowed,
        later_revisions=later_revisions,
        changed_form_fields=changed,
        detail=detail,
        description=messages.describe_modifications(level, allowed, set(changed) <= signature_fields),
    )


@dataclass
class EmbeddedValidationData:
    """Certificates and revocation data in the document security store (what B-LT adds)."""

    certs: list[x509.Certificate] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)

    @classmethod
    def read(cls, reader: PdfFileReader) -> EmbeddedValidationData:
        """Read the DSS, decoding its streams under pyhanko's per-purpose limits."""
        try:
            store = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            return cls()
        return cls(
            certs=list(store.load_certs()),
            crls=[
                crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL)) for ref in store.crls
            ],
            ocsps=[
                ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
                for ref in store.ocsps
            ],
        )


def pades_level(
    signer_info: cms.SignerInfo,
    subfilter: str,
    path: ValidationPath | None,
    timestamp: TimestampInfo | None,
    embedded: EmbeddedValidationData,
    archived: bool,
) -> PadesLevel | None:
    """The baseline level reached: B-B needs the PAdES subfilter and a signing-certificate
    attribute, B-T a valid signature timestamp, B-LT revocation data in the DSS for every
    certificate of the path below the anchor, B-LTA a valid later document timestamp."""
    attributes = {attribute["type"].native for attribute in signer_info["signed_attrs"]}
    if subfilter != PADES_SUBFILTER or not attributes & {"signing_certificate", "signing_certificate_v2"}:
        return None
    if timestamp is None or not timestamp.valid:
        return PadesLevel.B_B
    if path is None or not (embedded.crls or embedded.ocsps):
        return PadesLevel.B_T
    for cert in path.iter_certs(include_root=False):
        if revocation_of(cert, embedded.crls, embedded.ocsps)[0] is RevocationStatus.UNKNOWN:
            return PadesLevel.B_T
    return PadesLevel.B_LTA if archived else PadesLevel.B_LT
