"""Judging one national-standard signature value: a GB/T 38540 seal signature or an SM2 CMS.

``check_gm_signature(value, protected, context, name)`` takes the signed value (the bytes of an
OFD ``SignedValue`` file, or a PDF signature's ``/Contents``) and the bytes it must protect,
and returns a ``SignatureReport``. Checks run in a fixed order and the first that fails
decides, as on the PAdES side (``signing.verdict``):

1. the structure parses (``SES_Signature`` of GB/T 38540-2020 or GM/T 0031-2014, else a
   GB/T 35275/PKCS#7 ``SignedData``) → ``TOTAL_FAILED``/``FORMAT_FAILURE``;
2. the protected bytes are what was signed (SES ``dataHash``, CMS message digest) →
   ``HASH_FAILURE``; the SM2 signature value → ``SIG_CRYPTO_FAILURE``;
3. for a seal: the maker's SM2 signature over the seal → ``SIG_CRYPTO_FAILURE``; the signer's
   certificate is one the seal is bound to, the seal was within its validity when used, the
   maker's certificate chains to a trusted root → ``INDETERMINATE`` with the reason;
4. the signer's certificate chain and revocation, through pyhanko-certvalidator with the SM2
   signature validator (``signing.trust``) → its sub-indication;
5. an embedded RFC 3161 timestamp over the signature value must verify and come from a
   trusted TSA → ``INDETERMINATE``/``SIG_CONSTRAINTS_FAILURE`` otherwise.

Like ``verify_pdf`` it judges at the current time and does no past-signature validation.
Successful path validations and re-drawn seal pictures are remembered by the worker process
(``signing.verification_cache``), so a seal seen before costs little more than its signatures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass

from asn1crypto import cms, tsp, x509
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.path import ValidationPath

from signing import inspection, messages
from signing.gm_cms import check_signed_data
from signing.report import (
    AlgorithmFamily,
    CertificateInfo,
    Indication,
    SealInfo,
    SignatureKind,
    SignatureReport,
    SubIndication,
    TimestampInfo,
)
from signing.seal_picture import render_seal_picture
from signing.ses import SesSignature, read_signature
from signing.sm2 import SM2_SIGNATURE_OIDS, is_sm2_key, sm2_verify, sm3
from signing.trust import TrustSettings
from signing.verdict import unverifiable_signature
from signing.verification_cache import CHAINS, PICTURES, revocation_expiry

__all__ = ["Placement", "check_gm_signature"]

logger = logging.getLogger(__name__)
_FAILED, _INDETERMINATE = Indication.TOTAL_FAILED, Indication.INDETERMINATE


@dataclass(frozen=True)
class Placement:
    """Where the stamp shows: 1-based page and box in millimetres (OFD ``Boundary``)."""

    page: int | None
    box: tuple[float, float, float, float] | None


class _Refused(Exception):
    def __init__(self, indication: Indication, sub_indication: SubIndication, message: str) -> None:
        self.verdict = (indication, sub_indication, message)
        super().__init__(message)


async def check_gm_signature(
    value: bytes,
    protected: bytes,
    trust: TrustSettings,
    name: str,
    placement: Placement | None = None,
) -> SignatureReport:
    """The report on one SM2 signature value over ``protected``; never raises for bad input."""
    try:
        return await _SignatureCheck(value, protected, trust, name, placement).run()
    except (RecursionError, MemoryError):
        raise
    except Exception:
        logger.warning("national-standard signature %s could not be checked", name, exc_info=True)
        return unverifiable_signature(name, SubIndication.GENERIC, messages.SIGNATURE_ERROR)


class _SignatureCheck:
    def __init__(
        self, value: bytes, protected: bytes, trust: TrustSettings, name: str, placement: Placement | None
    ) -> None:
        self.value, self.protected, self.trust, self.name = value, protected, trust, name
        self.placement = placement
        self.fields: dict[str, object] = {"algorithm_family": AlgorithmFamily.SM2}
        self._validation: ValidationContext | None = None

    async def run(self) -> SignatureReport:
        try:
            return await self._checked()
        finally:
            if self._validation is not None:
                await self._validation.aclose()

    def _context(self, others: list[x509.Certificate]) -> ValidationContext:
        """One validation context for the signer, the seal maker and the TSA: they share CAs,
        whose CRLs are then fetched and checked once."""
        if self._validation is None:
            self._validation = self.trust.validation_context(other_certs=others)
        else:
            self._validation.certificate_registry.register_multiple(others)
        return self._validation

    async def _checked(self) -> SignatureReport:
        try:
            ses = read_signature(self.value)
        except ValueError:
            ses = None
        try:
            if ses is not None:
                cert, others, timestamp = await self._seal(ses)
            else:
                cert, others, timestamp = self._cms()
            chain = await self._chain(cert, others, self.fields.get("timestamp"))
            self.fields["certificate_chain"] = chain
            if timestamp is not None and not timestamp.valid:
                raise _Refused(
                    _INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE, messages.TIMESTAMP_INVALID
                )
        except _Refused as refused:
            indication, sub_indication, message = refused.verdict
            return self._report(indication, sub_indication, message)
        kind = self.fields.get("kind", SignatureKind.SEAL)
        return self._report(Indication.TOTAL_PASSED, None, messages.VALID[kind])  # type: ignore[index]

    def _report(self, indication: Indication, sub: SubIndication | None, message: str) -> SignatureReport:
        report = unverifiable_signature(self.name, sub or SubIndication.GENERIC, message, **self.fields)
        return _with(report, indication=indication, sub_indication=sub)

    # -- GB/T 38540 / GM/T 0031 ------------------------------------------------------------
    async def _seal(
        self, ses: SesSignature
    ) -> tuple[x509.Certificate, list[x509.Certificate], TimestampInfo | None]:
        signer = _certificate(ses.signer_cert)
        maker = _certificate(ses.maker_cert)
        self._describe_signer(signer)
        self.fields.update(
            claimed_signing_time=ses.signing_time,
            digest_algorithm="sm3",
            signature_algorithm="sm2_sm3",
            seal=SealInfo(
                name=ses.seal_name,
                seal_id=ses.seal_id,
                standard=ses.version.value,
                maker=_organisation(maker),
                valid_from=ses.seal_valid_from,
                valid_until=ses.seal_valid_until,
                picture_type=ses.picture.kind,
                picture_png=_picture(ses.picture.kind, ses.picture.data),
                page=self.placement.page if self.placement else None,
                box=self.placement.box if self.placement else None,
            ),
        )
        if ses.signer_algorithm not in SM2_SIGNATURE_OIDS or ses.maker_algorithm not in SM2_SIGNATURE_OIDS:
            raise _Refused(_INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, messages.SEAL_NOT_SM2)
        if ses.data_hash != sm3(self.protected):
            raise _Refused(_FAILED, SubIndication.HASH_FAILURE, messages.SEAL_DATA_CHANGED)
        if not (
            is_sm2_key(signer.public_key)
            and sm2_verify(signer.public_key, ses.signer_signed_data, ses.signature)
        ):
            raise _Refused(
                _FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                messages.SUB_INDICATIONS[SubIndication.SIG_CRYPTO_FAILURE],
            )
        if not (
            is_sm2_key(maker.public_key)
            and sm2_verify(maker.public_key, ses.maker_signed_data, ses.maker_signature)
        ):
            raise _Refused(_FAILED, SubIndication.SIG_CRYPTO_FAILURE, messages.SEAL_MAKER_SIGNATURE_INVALID)
        if not ses.binds(signer.dump()):
            raise _Refused(_INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE, messages.SEAL_CERT_MISMATCH)
        timestamp = await self._timestamp(ses)
        used_at = timestamp.time if timestamp and timestamp.valid else ses.signing_time
        if used_at is None or not ses.seal_valid_from <= used_at <= ses.seal_valid_until:
            raise _Refused(_INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE, messages.SEAL_EXPIRED)
        if not await self._validate(maker, [], maker_role=True):
            raise _Refused(
                _INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, messages.SEAL_MAKER_UNTRUSTED
            )
        return signer, [], timestamp

    async def _timestamp(self, ses: SesSignature) -> TimestampInfo | None:
        """The ``timeStamp`` token over the signature value, its imprint SM3 or SHA-2: from an
        SM2 TSA (checked here) or from any other (a production TSA_URL signing with RSA or
        ECDSA: checked by pyhanko, as a PAdES timestamp is)."""
        if ses.timestamp is None:
            return None
        try:
            signed = cms.ContentInfo.load(ses.timestamp, strict=True)["content"]
            info = signed["encap_content_info"]["content"].parsed
            if not isinstance(info, tsp.TSTInfo):
                raise ValueError("the token does not encapsulate a TSTInfo")
            imprint = info["message_imprint"]
            expected = _imprint(imprint["hash_algorithm"]["algorithm"].native, ses.signature)
            matches = expected is not None and imprint["hashed_message"].native == expected
            time: dt.datetime = info["gen_time"].native
            if _sm2_signed(signed):
                findings = check_signed_data(ses.timestamp, None)
                tsa = findings.signer_cert
                trusted = tsa is not None and await self._validate(tsa, list(findings.certificates), tsa=True)
                valid = bool(findings.intact and findings.valid and trusted)
            else:
                tsa, valid = await self._other_timestamp(signed, expected or b"")
        except (ValueError, TypeError, KeyError):
            stamp = TimestampInfo(time=dt.datetime.now(dt.UTC), tsa="?", valid=False)
        else:
            name = inspection.tsa_name(tsa) if tsa is not None else "?"
            stamp = TimestampInfo(time=time.astimezone(dt.UTC), tsa=name, valid=valid and matches)
        self.fields["timestamp"] = stamp
        return stamp

    async def _other_timestamp(
        self, signed: cms.SignedData, expected: bytes
    ) -> tuple[x509.Certificate | None, bool]:
        """The signer of a token no SM2 TSA signed, and whether it is intact, valid and trusted."""
        try:
            status = TimestampSignatureStatus(
                **await validate_tst_signed_data(signed, self._context([]), lambda _algorithm: expected)
            )
        except Exception:  # pyhanko raises many types for garbled CMS
            logger.info("timestamp of %s could not be validated", self.name, exc_info=True)
            return None, False
        return status.signing_cert, bool(status.intact and status.valid and status.trusted)

    # -- GB/T 35275 -------------------------------------------------------------------------
    def _cms(self) -> tuple[x509.Certificate, list[x509.Certificate], TimestampInfo | None]:
        try:
            findings = check_signed_data(self.value, self.protected)
        except (ValueError, TypeError, KeyError) as exc:
            logger.info("signature %s is neither SES nor SM2 CMS: %s", self.name, exc)
            raise _Refused(_FAILED, SubIndication.FORMAT_FAILURE, messages.GM_FORMAT_UNKNOWN) from None
        self.fields.update(
            claimed_signing_time=findings.signing_time, digest_algorithm="sm3", signature_algorithm="sm2_sm3"
        )
        if findings.signer_cert is None:
            sub = SubIndication.NO_SIGNING_CERTIFICATE_FOUND
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub])
        self._describe_signer(findings.signer_cert)
        if not findings.intact:
            raise _Refused(
                _FAILED, SubIndication.HASH_FAILURE, messages.SUB_INDICATIONS[SubIndication.HASH_FAILURE]
            )
        if not findings.valid:
            sub = SubIndication.SIG_CRYPTO_FAILURE
            raise _Refused(_FAILED, sub, messages.SUB_INDICATIONS[sub])
        return findings.signer_cert, list(findings.certificates), None

    # -- the chain ------------------------------------------------------------------------------
    def _describe_signer(self, cert: x509.Certificate) -> None:
        kind, common_name, organisation, organisation_id = inspection.signer_profile(cert)
        self.fields.update(
            kind=kind, signer_name=common_name, organisation=organisation, organisation_id=organisation_id
        )
        self.fields["certificate_chain"] = inspection.certificate_chain(cert, None, [], [])

    async def _chain(
        self, cert: x509.Certificate, others: list[x509.Certificate], timestamp: object
    ) -> tuple[CertificateInfo, ...]:
        key = _chain_key(self.trust, "signer", cert, others)
        cached = CHAINS.get(key)
        if isinstance(cached, tuple):
            return cached
        context = self._context(others)
        validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
        try:
            path: ValidationPath = await validator.async_validate_path()
        except cv_errors.RevokedError:
            chain = inspection.certificate_chain(cert, None, context.crls, context.ocsps)
            self.fields["certificate_chain"] = chain
            sub = SubIndication.REVOKED_NO_POE
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub]) from None
        except cv_errors.NotYetValidError:
            sub = SubIndication.NOT_YET_VALID
            raise _Refused(_FAILED, sub, messages.SUB_INDICATIONS[sub]) from None
        except cv_errors.ExpiredError:
            sub = SubIndication.OUT_OF_BOUNDS_NO_POE
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub]) from None
        except cv_errors.PathBuildingError:
            sub = SubIndication.NO_CERTIFICATE_CHAIN_FOUND
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub]) from None
        except cv_errors.DisallowedAlgorithmError:
            sub = SubIndication.CRYPTO_CONSTRAINTS_FAILURE
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub]) from None
        except (cv_errors.PathValidationError, cv_errors.ValidationError):
            sub = SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub]) from None
        if not _signing_usage(cert):
            sub = SubIndication.CHAIN_CONSTRAINTS_FAILURE
            raise _Refused(_INDETERMINATE, sub, messages.SUB_INDICATIONS[sub])
        chain = inspection.certificate_chain(cert, path, context.crls, context.ocsps)
        CHAINS.put(key, chain, revocation_expiry(path, context.crls, context.ocsps))
        return chain

    async def _validate(
        self,
        cert: x509.Certificate,
        others: list[x509.Certificate],
        *,
        maker_role: bool = False,
        tsa: bool = False,
    ) -> bool:
        """Whether a side certificate (seal maker, TSA) validates for its role."""
        key = _chain_key(self.trust, "tsa" if tsa else "maker" if maker_role else "other", cert, others)
        if CHAINS.get(key) is True:
            return True
        context = self._context(others)
        validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
        try:
            if tsa:
                path: ValidationPath = await validator.async_validate_usage(
                    set(), extended_key_usage={"time_stamping"}
                )
            else:
                path = await validator.async_validate_path()
        except (cv_errors.PathError, cv_errors.ValidationError):
            return False
        if maker_role and not _signing_usage(cert):
            return False
        CHAINS.put(key, True, revocation_expiry(path, context.crls, context.ocsps))
        return True


def _chain_key(
    trust: TrustSettings, role: str, cert: x509.Certificate, others: list[x509.Certificate]
) -> Hashable:
    """What a path validation's answer depends on besides the time."""
    offered = tuple(sorted(hashlib.sha256(other.dump()).digest() for other in others))
    return (trust, role, hashlib.sha256(cert.dump()).digest(), offered)


def _imprint(algorithm: str, data: bytes) -> bytes | None:
    """``data``'s digest by a token's imprint algorithm; ``None`` for one not accepted."""
    if algorithm == "sm3":
        return sm3(data)
    if algorithm in ("sha256", "sha384", "sha512"):
        return hashlib.new(algorithm, data).digest()
    return None


def _sm2_signed(signed: cms.SignedData) -> bool:
    infos = signed["signer_infos"]
    return len(infos) == 1 and infos[0]["signature_algorithm"]["algorithm"].dotted in SM2_SIGNATURE_OIDS


def _picture(kind: str, data: bytes) -> bytes | None:
    """The seal picture re-drawn (``signing.seal_picture``), once per picture per process."""
    key = hashlib.sha256(kind.encode() + b"\0" + data).digest()
    if key in PICTURES:
        return PICTURES.get(key)
    png = render_seal_picture(kind, data)
    PICTURES.put(key, png)
    return png


def _certificate(der: bytes) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(der, strict=True)
        _ = cert.subject, cert.public_key
    except (ValueError, TypeError) as exc:
        raise _Refused(_FAILED, SubIndication.FORMAT_FAILURE, messages.GM_FORMAT_UNKNOWN) from exc
    return cert


def _signing_usage(cert: x509.Certificate) -> bool:
    usage = cert.key_usage_value
    return usage is None or bool({"digital_signature", "non_repudiation"} & set(usage.native))


def _organisation(cert: x509.Certificate) -> str | None:
    subject = cert.subject.native
    value = subject.get("organization_name") or subject.get("common_name")
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _with(report: SignatureReport, **changes: object) -> SignatureReport:
    return dataclasses.replace(report, **changes)  # type: ignore[arg-type]
