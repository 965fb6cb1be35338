"""SM2 signatures in CMS: GB/T 35275 detached PKCS#7 and RFC 3161 tokens signed with SM2.

GB/T 35275 is PKCS#7 ``SignedData`` with its own object identifiers (``1.2.156.10197.6.1.4.2.2``
signed data, ``...4.2.1`` data), SM3 as digest and SM2 (``sm2-1`` or SM2-with-SM3) as signature
algorithm. Signed attributes are optional there: without them the signer signs the content
itself (with the SM2 identity, like every SM2 signature). Readers also meet the same
structure under the ordinary PKCS#7 identifiers, which ``check_signed_data`` accepts too.

``check_signed_data`` answers the cryptographic questions (which certificate, content intact,
signature valid, claimed time) and leaves the chain of trust to ``signing.gm_verify``;
``sign_signed_data`` and ``stamp_imprint`` build the same structures for the development
seal system, the development SM2 TSA (``signing.timestamps.DevSm2TimestampClient``) and the
test corpus.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from asn1crypto import algos, cms, core, tsp, x509

from signing.sm2 import SM2_SIGN_OID, SM2_SIGNATURE_OIDS, Sm2PrivateKey, is_sm2_key, sm2_verify, sm3

__all__ = [
    "GM_DATA_OID",
    "GM_SIGNED_DATA_OID",
    "CmsFindings",
    "check_signed_data",
    "sign_signed_data",
    "stamp_imprint",
]

GM_SIGNED_DATA_OID = "1.2.156.10197.6.1.4.2.2"
GM_DATA_OID = "1.2.156.10197.6.1.4.2.1"
if GM_SIGNED_DATA_OID not in cms.ContentType._map:
    cms.ContentType._map[GM_SIGNED_DATA_OID] = "gm_signed_data"
    cms.ContentType._map[GM_DATA_OID] = "gm_data"
    if cms.ContentType._reverse_map is not None:
        cms.ContentType._reverse_map.update({"gm_signed_data": GM_SIGNED_DATA_OID, "gm_data": GM_DATA_OID})
    cms.ContentInfo._oid_specs["gm_signed_data"] = cms.SignedData


@dataclass(frozen=True)
class CmsFindings:
    signer_cert: x509.Certificate | None
    certificates: tuple[x509.Certificate, ...]
    intact: bool
    """The content's SM3 digest is the one signed (or, without attributes, the content is)."""
    valid: bool
    """The SM2 signature verifies with the signer certificate's key."""
    signing_time: dt.datetime | None
    gm_identifiers: bool
    """GB/T 35275 object identifiers rather than the PKCS#7 ones."""
    encapsulated: bytes | None


def check_signed_data(der: bytes, content: bytes | None) -> CmsFindings:
    """Check a ``ContentInfo`` with SM2 ``SignedData`` over ``content`` (``None``: the
    encapsulated content, as in a timestamp token). ``ValueError`` if it is no such thing."""
    info = cms.ContentInfo.load(der, strict=True)
    kind = info["content_type"].native
    if kind not in ("signed_data", "gm_signed_data"):
        raise ValueError(f"not signed data: {kind}")
    signed: cms.SignedData = info["content"]
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise ValueError("exactly one signer expected")
    signer = infos[0]
    certificates = tuple(
        choice.chosen
        for choice in signed["certificates"] or ()
        if isinstance(choice.chosen, x509.Certificate)
    )
    sid = signer["sid"].chosen
    cert = next(
        (
            c
            for c in certificates
            if (isinstance(sid, cms.IssuerAndSerialNumber)
            and c.issuer == sid["issuer"]
            and c.serial_number == sid["serial_number"].native)
            or (isinstance(sid, core.OctetString)
            and c.key_identifier == sid.native)
        ),
        None,
    )
    encapsulated = signed["encap_content_info"]["content"]
    embedded = None if isinstance(encapsulated, core.Void) else bytes(encapsulated.contents)
    signed_content = content if content is not None else embedded
    if signed_content is None:
        raise ValueError("no content to check")
    if signer["digest_algorithm"]["algorithm"].native != "sm3":
        raise ValueError("digest is not SM3")
    if signer["signature_algorithm"]["algorithm"].dotted not in SM2_SIGNATURE_OIDS:
        raise ValueError("signature is not SM2")
    attributes = signer["signed_attrs"]
    signing_time = None
    if isinstance(attributes, core.Void) or not len(attributes):
        to_verify = signed_content
        intact = True
    else:
        values = {attribute["type"].native: attribute["values"] for attribute in attributes}
        digest = values.get("message_digest")
        intact = digest is not None and len(digest) == 1 and digest[0].native == sm3(signed_content)
        if "signing_time" in values:
            signing_time = values["signing_time"][0].native
        to_verify = attributes.untag().dump()
    valid = (
        cert is not None
        and is_sm2_key(cert.public_key)
        and sm2_verify(cert.public_key, to_verify, signer["signature"].native)
    )
    return CmsFindings(
        signer_cert=cert,
        certificates=certificates,
        intact=intact,
        valid=valid,
        signing_time=signing_time,
        gm_identifiers=kind == "gm_signed_data",
        encapsulated=embedded,
    )


def sign_signed_data(
    content: bytes,
    cert: x509.Certificate,
    key: Sm2PrivateKey,
    chain: tuple[x509.Certificate, ...] = (),
    *,
    gm_identifiers: bool = True,
    signed_attributes: bool = True,
    encapsulate: tuple[str, bytes] | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """A ``ContentInfo``: SM2/SM3 ``SignedData`` over ``content``, detached unless
    ``encapsulate`` gives ``(content type, DER)`` to carry (a timestamp's TSTInfo)."""
    data_type = "gm_data" if gm_identifiers else "data"
    content_type = encapsulate[0] if encapsulate else data_type
    attributes = None
    to_sign = content
    if signed_attributes:
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": [content_type]},
                {"type": "message_digest", "values": [sm3(content)]},
                {"type": "signing_time", "values": [cms.Time(name="utc_time", value=_now(signing_time))]},
            ]
        )
        to_sign = attributes.dump()
    encap: dict[str, object] = {"content_type": content_type}
    if encapsulate:
        encap["content"] = core.ParsableOctetString(encapsulate[1])
    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": cert.issuer, "serial_number": cert.serial_number},
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sm3"}),
        "signed_attrs": attributes,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": SM2_SIGN_OID}),
        "signature": key.sign(to_sign),
    }
    signed = cms.SignedData(
        {
            # v3 (CMS) when content is carried: a PKCS#7 v1 structure would not wrap it in
            # an OCTET STRING, and RFC 3161 asks for v3.
            "version": "v3" if encapsulate else "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sm3"})],
            "encap_content_info": encap,
            "certificates": [cert, *chain],
            "signer_infos": [signer],
        }
    )
    kind = "gm_signed_data" if gm_identifiers else "signed_data"
    return cms.ContentInfo({"content_type": kind, "content": signed}).dump()


def stamp_imprint(
    imprint: tsp.MessageImprint,
    nonce: int | None,
    tsa_cert: x509.Certificate,
    tsa_key: Sm2PrivateKey,
    chain: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """An RFC 3161 token over a request's ``imprint``, its ``nonce`` echoed, signed with SM2:
    what the development SM2 TSA answers."""
    info: dict[str, object] = {
        "version": "v1",
        "policy": "1.2.156.10197.6.1.4.2.100",
        "message_imprint": imprint,
        "serial_number": secrets.randbits(63),
        "gen_time": _now(None),
    }
    if nonce is not None:
        info["nonce"] = nonce
    der = tsp.TSTInfo(info).dump()
    return sign_signed_data(
        der, tsa_cert, tsa_key, chain, gm_identifiers=False, encapsulate=("tst_info", der)
    )


def _now(moment: dt.datetime | None) -> dt.datetime:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
