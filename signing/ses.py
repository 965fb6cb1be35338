"""GB/T 38540 electronic seals and seal signatures (SES), in both versions found in the wild.

The ASN.1 is transcribed from the standards:

* GB/T 38540-2020 (version 4): ``SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET
  STRING, signatureAlgID OID, signature BIT STRING, timeStamp [0] EXPLICIT BIT STRING OPTIONAL }``
  with ``TBS_Sign ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo GeneralizedTime,
  dataHash BIT STRING, propertyInfo IA5String, extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }``
  and ``SESeal ::= SEQUENCE { esealInfo SES_SealInfo, cert OCTET STRING, signAlgID OID,
  signedValue BIT STRING }``. The maker signs ``SEQUENCE { esealInfo, cert, signAlgID }``,
  the signer ``SEQUENCE { toSign, cert, signatureAlgID }``.
* GM/T 0031-2014 (version 1): ``SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT
  STRING }``, ``TBS_Sign ::= SEQUENCE { version, eseal, timeInfo BIT STRING, dataHash BIT
  STRING, propertyInfo IA5String, cert OCTET STRING, signatureAlgorithm OID }``, ``SESeal ::=
  SEQUENCE { esealInfo, signInfo SEQUENCE { cert, signatureAlgorithm, signData } }``. The maker
  signs ``esealInfo``, the signer ``toSign``.

``dataHash`` is the SM3 digest of what was sealed (in an OFD: the bytes of ``Signature.xml``).
``read_signature`` parses either version into one ``SesSignature`` value, ``read_seal`` a seal
alone (``SesSeal``, what an ``.esl`` file holds); ``build_seal`` and ``build_signature`` write
either (the development seal system, the portal's own seal and the tests use them).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from asn1crypto import core, x509

from signing.sm2 import SM2_WITH_SM3_OID, Sm2PrivateKey, sm3

__all__ = [
    "SealPicture",
    "SesSeal",
    "SesSignature",
    "SesVersion",
    "attach_timestamp",
    "build_seal",
    "build_signature",
    "read_seal",
    "read_signature",
]


class _Header(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class _CertList(core.SequenceOf):
    _child_spec = core.OctetString


class _CertDigest(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class _CertDigestList(core.SequenceOf):
    _child_spec = _CertDigest


class _PropertyV4(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),  # CHOICE of two SEQUENCE OFs, told apart by cert_list_type
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class _PropertyV1(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list", _CertList),
        ("create_date", core.UTCTime),
        ("valid_start", core.UTCTime),
        ("valid_end", core.UTCTime),
    ]


class _Picture(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class _ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class _ExtensionDatas(core.SequenceOf):
    _child_spec = _ExtData


class _SealInfoV4(core.Sequence):
    _fields = [
        ("header", _Header),
        ("es_id", core.IA5String),
        ("property", _PropertyV4),
        ("picture", _Picture),
        ("ext_datas", _ExtensionDatas, {"optional": True}),
    ]


class _SealInfoV1(core.Sequence):
    _fields = [
        ("header", _Header),
        ("es_id", core.IA5String),
        ("property", _PropertyV1),
        ("picture", _Picture),
        ("ext_datas", _ExtensionDatas, {"optional": True}),
    ]


class _SealV4(core.Sequence):
    _fields = [
        ("eseal_info", _SealInfoV4),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class _SignInfoV1(core.Sequence):
    _fields = [
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class _SealV1(core.Sequence):
    _fields = [("eseal_info", _SealInfoV1), ("sign_info", _SignInfoV1)]


class _TbsSignV4(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", _SealV4),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", _ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class _TbsSignV1(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", _SealV1),
        ("time_info", core.OctetBitString),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class _SignatureV4(core.Sequence):
    _fields = [
        ("to_sign", _TbsSignV4),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


class _SignatureV1(core.Sequence):
    _fields = [("to_sign", _TbsSignV1), ("signature", core.OctetBitString)]


class _Probe(core.SequenceOf):
    _child_spec = core.Any


class SesVersion(enum.StrEnum):
    V1 = "GM/T 0031-2014"
    V4 = "GB/T 38540-2020"


@dataclass(frozen=True)
class SealPicture:
    kind: str
    """``PNG``, ``JPG``, ``GIF``, ``BMP``, ``SVG`` or ``OFD`` as the seal declares it."""
    data: bytes
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class SesSeal:
    """A seal (``SESeal``) as its maker made it, either version: what a seal signature carries,
    and what a seal-making system hands an organisation (its ``.esl`` file)."""

    version: SesVersion
    seal_id: str
    seal_name: str
    seal_type: int
    seal_created: dt.datetime | None
    seal_valid_from: dt.datetime
    seal_valid_until: dt.datetime
    seal_certs: tuple[bytes, ...]
    """``certListType`` 1: the DER certificates the seal is bound to."""
    seal_cert_digests: tuple[tuple[str, bytes], ...]
    """``certListType`` 2: ``(algorithm, digest)`` of those certificates."""
    picture: SealPicture
    maker_cert: bytes
    maker_algorithm: str
    maker_signature: bytes
    maker_signed_data: bytes

    def binds(self, certificate: bytes) -> bool:
        """Whether the DER ``certificate`` is one of those the seal names (whole, or by SM3)."""
        if self.seal_certs:
            return certificate in self.seal_certs
        return any(
            algorithm.upper() == "SM3" and sm3(certificate) == value
            for algorithm, value in self.seal_cert_digests
        )


@dataclass(frozen=True)
class SesSignature(SesSeal):
    """One parsed seal signature, both versions alike: its seal and the raw parts its checks need."""

    signing_time: dt.datetime | None
    data_hash: bytes
    property_info: str
    signer_cert: bytes
    signer_algorithm: str
    signature: bytes
    signer_signed_data: bytes
    timestamp: bytes | None
    """An RFC 3161 token over ``signature`` (version 4 only)."""


def read_signature(der: bytes) -> SesSignature:
    """Parse a DER ``SES_Signature`` of either version; ``ValueError`` if it is neither."""
    probe = _Probe.load(der, strict=True)
    if len(probe) == 2:
        return _read_v1(_SignatureV1.load(der, strict=True))
    if len(probe) in (4, 5):
        return _read_v4(_SignatureV4.load(der, strict=True))
    raise ValueError("not an SES_Signature")


def read_seal(der: bytes) -> SesSeal:
    """Parse a DER ``SESeal`` of either version; ``ValueError`` if it is neither."""
    probe = _Probe.load(der, strict=True)
    if len(probe) == 2:
        return SesSeal(**_seal_v1(_SealV1.load(der, strict=True)))  # type: ignore[arg-type]
    if len(probe) == 4:
        return SesSeal(**_seal_v4(_SealV4.load(der, strict=True)))  # type: ignore[arg-type]
    raise ValueError("not an SESeal")


def _seal_v4(seal: _SealV4) -> dict[str, object]:
    info = seal["eseal_info"]
    prop = info["property"]
    list_type = prop["cert_list_type"].native
    certs: tuple[bytes, ...] = ()
    digests: tuple[tuple[str, bytes], ...] = ()
    if list_type == 1:
        certs = tuple(item.native for item in _CertList.load(prop["cert_list"].dump(), strict=True))
    elif list_type == 2:
        loaded = _CertDigestList.load(prop["cert_list"].dump(), strict=True)
        digests = tuple((item["type"].native, item["value"].native) for item in loaded)
    else:
        raise ValueError("unknown certListType")
    return {
        "version": SesVersion.V4,
        "seal_id": info["es_id"].native,
        "seal_name": prop["name"].native,
        "seal_type": prop["type"].native,
        "seal_created": prop["create_date"].native,
        "seal_valid_from": prop["valid_start"].native,
        "seal_valid_until": prop["valid_end"].native,
        "seal_certs": certs,
        "seal_cert_digests": digests,
        "picture": _picture(info["picture"]),
        "maker_cert": seal["cert"].native,
        "maker_algorithm": seal["sign_alg_id"].dotted,
        "maker_signature": seal["signed_value"].native,
        "maker_signed_data": _Probe([info, seal["cert"], seal["sign_alg_id"]]).dump(),
    }


def _seal_v1(seal: _SealV1) -> dict[str, object]:
    info = seal["eseal_info"]
    prop = info["property"]
    sign_info = seal["sign_info"]
    return {
        "version": SesVersion.V1,
        "seal_id": info["es_id"].native,
        "seal_name": prop["name"].native,
        "seal_type": prop["type"].native,
        "seal_created": prop["create_date"].native,
        "seal_valid_from": prop["valid_start"].native,
        "seal_valid_until": prop["valid_end"].native,
        "seal_certs": tuple(item.native for item in prop["cert_list"]),
        "seal_cert_digests": (),
        "picture": _picture(info["picture"]),
        "maker_cert": sign_info["cert"].native,
        "maker_algorithm": sign_info["signature_algorithm"].dotted,
        "maker_signature": sign_info["sign_data"].native,
        "maker_signed_data": info.dump(),
    }


def _read_v4(value: _SignatureV4) -> SesSignature:
    tbs = value["to_sign"]
    stamp = value["time_stamp"]
    return SesSignature(
        **_seal_v4(tbs["eseal"]),  # type: ignore[arg-type]
        signing_time=tbs["time_info"].native,
        data_hash=tbs["data_hash"].native,
        property_info=tbs["property_info"].native,
        signer_cert=value["cert"].native,
        signer_algorithm=value["signature_alg_id"].dotted,
        signature=value["signature"].native,
        signer_signed_data=_Probe([tbs, value["cert"], value["signature_alg_id"]]).dump(),
        timestamp=None if isinstance(stamp, core.Void) else stamp.native,
    )


def _read_v1(value: _SignatureV1) -> SesSignature:
    tbs = value["to_sign"]
    return SesSignature(
        **_seal_v1(tbs["eseal"]),  # type: ignore[arg-type]
        signing_time=_v1_time(tbs["time_info"].native),
        data_hash=tbs["data_hash"].native,
        property_info=tbs["property_info"].native,
        signer_cert=tbs["cert"].native,
        signer_algorithm=tbs["signature_algorithm"].dotted,
        signature=value["signature"].native,
        signer_signed_data=tbs.dump(),
        timestamp=None,
    )


def _picture(value: _Picture) -> SealPicture:
    return SealPicture(
        kind=value["type"].native.upper(),
        data=value["data"].native,
        width_mm=value["width"].native,
        height_mm=value["height"].native,
    )


def _v1_time(raw: bytes) -> dt.datetime | None:
    """GM/T 0031 leaves the encoding of ``timeInfo`` open: a DER time or its text."""
    for kind in (core.GeneralizedTime, core.UTCTime):
        try:
            moment: dt.datetime = kind.load(raw, strict=True).native
            return moment
        except (ValueError, TypeError):
            pass
        try:
            moment = kind(raw.decode("ascii")).native
            return moment
        except (ValueError, TypeError, UnicodeDecodeError):
            pass
    return None


# -- building (the development seal system and the test corpus) -------------------------------
def build_seal(
    version: SesVersion,
    *,
    seal_id: str,
    name: str,
    signer_certs: tuple[x509.Certificate, ...],
    picture: SealPicture,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    maker_cert: x509.Certificate,
    maker_key: Sm2PrivateKey,
    seal_type: int = 1,
    vendor: str = "DEVPORTAL",
    cert_digests: bool = False,
) -> bytes:
    """A DER ``SESeal`` signed by the seal maker (``cert_digests``: certListType 2, SM3)."""
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    header = {"id": "ES", "version": 4 if version is SesVersion.V4 else 1, "vid": vendor}
    pic = {"type": picture.kind, "data": picture.data, "width": picture.width_mm, "height": picture.height_mm}
    if version is SesVersion.V1:
        prop_v1 = _PropertyV1(
            {
                "type": seal_type,
                "name": name,
                "cert_list": [cert.dump() for cert in signer_certs],
                "create_date": created,
                "valid_start": valid_from,
                "valid_end": valid_until,
            }
        )
        info_v1 = _SealInfoV1({"header": header, "es_id": seal_id, "property": prop_v1, "picture": pic})
        sign_info = {
            "cert": maker_cert.dump(),
            "signature_algorithm": SM2_WITH_SM3_OID,
            "sign_data": maker_key.sign(info_v1.dump()),
        }
        return _SealV1({"eseal_info": info_v1, "sign_info": sign_info}).dump()
    if cert_digests:
        cert_list = _CertDigestList(
            [{"type": "SM3", "value": sm3(cert.dump())} for cert in signer_certs]
        ).dump()
    else:
        cert_list = _CertList([cert.dump() for cert in signer_certs]).dump()
    prop = _PropertyV4(
        {
            "type": seal_type,
            "name": name,
            "cert_list_type": 2 if cert_digests else 1,
            "cert_list": core.Any.load(cert_list),
            "create_date": created,
            "valid_start": valid_from,
            "valid_end": valid_until,
        }
    )
    info = _SealInfoV4({"header": header, "es_id": seal_id, "property": prop, "picture": pic})
    cert = core.OctetString(maker_cert.dump())
    algorithm = core.ObjectIdentifier(SM2_WITH_SM3_OID)
    signed_value = maker_key.sign(_Probe([info, cert, algorithm]).dump())
    return _SealV4(
        {"eseal_info": info, "cert": cert, "sign_alg_id": algorithm, "signed_value": signed_value}
    ).dump()


def build_signature(
    seal: bytes,
    *,
    data: bytes,
    property_info: str,
    signer_cert: x509.Certificate,
    signer_key: Sm2PrivateKey,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """A DER ``SES_Signature`` over ``data`` (its SM3 is ``dataHash``), the seal's version;
    without ``timeStamp``, which covers the signature value (``attach_timestamp``)."""
    moment = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cert = core.OctetString(signer_cert.dump())
    algorithm = core.ObjectIdentifier(SM2_WITH_SM3_OID)
    if len(_Probe.load(seal)) == 2:
        tbs_v1 = _TbsSignV1(
            {
                "version": 1,
                "eseal": _SealV1.load(seal),
                "time_info": core.GeneralizedTime(moment).dump(),
                "data_hash": sm3(data),
                "property_info": property_info,
                "cert": cert,
                "signature_algorithm": algorithm,
            }
        )
        return _SignatureV1({"to_sign": tbs_v1, "signature": signer_key.sign(tbs_v1.dump())}).dump()
    tbs = _TbsSignV4(
        {
            "version": 4,
            "eseal": _SealV4.load(seal),
            "time_info": moment,
            "data_hash": sm3(data),
            "property_info": property_info,
        }
    )
    signature = signer_key.sign(_Probe([tbs, cert, algorithm]).dump())
    return _SignatureV4(
        {"to_sign": tbs, "cert": cert, "signature_alg_id": algorithm, "signature": signature}
    ).dump()


def attach_timestamp(der: bytes, token: bytes) -> bytes:
    """A version-4 ``SES_Signature`` with ``timeStamp`` set to ``token`` (an RFC 3161 token over
    its signature value); the signed part is untouched."""
    value = _SignatureV4.load(der, strict=True)
    return _SignatureV4(
        {
            "to_sign": value["to_sign"],
            "cert": value["cert"],
            "signature_alg_id": value["signature_alg_id"],
            "signature": value["signature"],
            "time_stamp": token,
        }
    ).dump()
