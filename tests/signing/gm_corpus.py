"""The national-standard corpus: OFD files sealed with the development SM2 PKI, and the
independent check of every SM2 signature value in them by Debian's ``openssl`` 3.

``GmCorpus`` is built once per test session (``gm_corpus`` fixture): GB/T 38540-2020 (V4) and
GM/T 0031-2014 (V1) seal signatures, a GB/T 35275 SM2 PKCS#7 signature, a V4 seal with an SM2
timestamp, a document sealed twice, and the hostile variants of ``test_hostile_ofd.py``.
``sm2_values(ofd)`` lists every ``(public key, signed bytes, signature)`` an OFD holds (signer,
seal maker, timestamp authority) and ``openssl_verifies`` asks ``openssl pkeyutl -verify
-rawin -digest sm3 -pkeyopt distid:1234567812345678`` about one of them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, crl, keys, pem, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.sign.signers.cms_embedder import PdfCMSEmbedder, SigIOSetup, SigObjSetup
from pyhanko.sign.signers.pdf_byterange import SignatureObject

from signing import DevPki, DevSm2TimestampClient, async_timestamp_sm3, seal_png
from signing.gm_cms import check_signed_data, sign_signed_data
from signing.ofd_build import SignedValueKind, build_ofd, seal_ofd, timestamp_newest_seal
from signing.pki_sm2 import DevSm2Pki, Sm2CaName, Sm2Credential
from signing.ses import SealPicture, SesVersion, build_seal, build_signature, read_signature
from signing.sm2 import SM2_SIGNATURE_OIDS

AGENCY = "福州市鼓楼区市场监督管理局"
AGENCY_USCC = "11350102MB0000001X"
SEAL_NAME = "福州市鼓楼区市场监督管理局行政执法专用章"


@dataclass(frozen=True)
class GmCorpus:
    pki: DevPki
    signer: Sm2Credential
    v4: bytes
    v1: bytes
    pkcs7: bytes
    v4_timestamped: bytes
    digests_v4: bytes
    twice: bytes
    document: bytes

    def seal(self, version: SesVersion = SesVersion.V4, **overrides: object) -> bytes:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        maker = self.pki.sm2.seal_maker()
        arguments: dict[str, object] = dict(
            seal_id="35010200000001",
            name=SEAL_NAME,
            signer_certs=(self.signer.certificate,),
            picture=SealPicture("PNG", seal_png(AGENCY), 40, 40),
            valid_from=now - dt.timedelta(days=30),
            valid_until=now + dt.timedelta(days=365),
            maker_cert=maker.certificate,
            maker_key=maker.private_key,
        )
        arguments.update(overrides)
        return build_seal(version, **arguments)  # type: ignore[arg-type]

    def sealed(
        self,
        seal: bytes,
        *,
        signer: Sm2Credential | None = None,
        document: bytes | None = None,
    ) -> bytes:
        who = signer or self.signer
        return seal_ofd(
            document or self.document,
            SignedValueKind.SES,
            who.certificate,
            who.private_key,
            seal=seal,
        )


def build_corpus(pki: DevPki) -> GmCorpus:
    signer = pki.sm2.seal(AGENCY, AGENCY_USCC)
    document = build_ofd("行政处罚决定书", ["当事人：福州示例科技有限公司", "罚款人民币伍仟元整"])
    partial = GmCorpus(pki, signer, b"", b"", b"", b"", b"", b"", document)
    v4 = partial.sealed(partial.seal())
    pkcs7 = seal_ofd(
        document, SignedValueKind.PKCS7, signer.certificate, signer.private_key, chain=signer.chain
    )
    tsa = pki.sm2.tsa()
    v4_seal = partial.seal()
    timestamped = _timestamped(partial, v4_seal, tsa)
    return GmCorpus(
        pki=pki,
        signer=signer,
        v4=v4,
        v1=partial.sealed(partial.seal(SesVersion.V1)),
        pkcs7=pkcs7,
        v4_timestamped=timestamped,
        digests_v4=partial.sealed(partial.seal(cert_digests=True)),
        twice=partial.sealed(partial.seal(), document=pkcs7),
        document=document,
    )


STAMP_BOX = (380, 60, 493, 173)
"""Where ``national_pdf`` puts the stamp on page 1, in PDF points (bottom-left origin)."""


def national_pdf(
    document: bytes,
    signer: Sm2Credential,
    *,
    seal: bytes | None = None,
    tamper: bool = False,
) -> bytes:
    """``document`` signed the way Chinese seal systems sign PDFs: ``/Contents`` holds a GB/T
    38540 ``SES_Signature`` over the byte range (``seal`` given) or a GB/T 35275 SM2 PKCS#7
    detached ``SignedData`` (``seal`` ``None``). ``tamper``: the value is computed over other
    bytes than the byte range (a forged or misplaced signature)."""
    def value_over(data: bytes) -> bytes:
        if seal is not None:
            return build_signature(seal, data=data, property_info="PDF", signer_cert=signer.certificate,
                                   signer_key=signer.private_key)
        return sign_signed_data(data, signer.certificate, signer.private_key, signer.chain)

    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    embedder = PdfCMSEmbedder(new_field_spec=SigFieldSpec("Seal", on_page=0, box=STAMP_BOX))
    coroutine = embedder.write_cms(field_name="Seal", writer=writer)
    next(coroutine)
    reserved = 2 * len(value_over(b"")) + 256  # hex digits; an SM2 value varies by a few bytes
    coroutine.send(SigObjSetup(sig_placeholder=SignatureObject(bytes_reserved=reserved)))
    prepared, output = coroutine.send(SigIOSetup(md_algorithm="sm3", in_place=False))
    written = output.getvalue()
    signed = written[: prepared.reserved_region_start] + written[prepared.reserved_region_end :]
    if tamper:
        signed = signed.replace(b"/Type /Page", b"/Type  /Page", 1)
    coroutine.send(value_over(signed))
    return bytes(output.getvalue())


def _timestamped(corpus: GmCorpus, seal: bytes, tsa: Sm2Credential) -> bytes:
    """A V4 signature whose ``timeStamp`` is an SM2 RFC 3161 token over its signature value
    (outside what the signer signs, so it is added afterwards, as a TSA client does)."""
    client = DevSm2TimestampClient(tsa)
    return asyncio.run(
        timestamp_newest_seal(corpus.sealed(seal), lambda value: async_timestamp_sm3(client, value))
    )


def entries(ofd: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(ofd)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    items = files.items() if isinstance(files, dict) else files
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in items:
            archive.writestr(name, content)
    return buffer.getvalue()


@dataclass(frozen=True)
class Sm2Value:
    role: str
    public_key: keys.PublicKeyInfo
    message: bytes
    signature: bytes


def sm2_values(ofd: bytes) -> list[Sm2Value]:
    """Every SM2 signature value in ``ofd``: signer and seal maker per SES, signer per CMS,
    and the timestamp authority's where a token is embedded."""
    return [
        value
        for name, content in entries(ofd).items()
        if name.endswith("SignedValue.dat")
        for value in value_sm2_values(content)
    ]


def value_sm2_values(content: bytes) -> list[Sm2Value]:
    """The SM2 signature values of one signed value (an SES or an SM2 PKCS#7)."""
    try:
        ses = read_signature(content)
    except ValueError:
        return [_cms_value("signer (GB/T 35275)", content)]
    signer = x509.Certificate.load(ses.signer_cert)
    maker = x509.Certificate.load(ses.maker_cert)
    values = [
        Sm2Value("signer", signer.public_key, ses.signer_signed_data, ses.signature),
        Sm2Value("seal maker", maker.public_key, ses.maker_signed_data, ses.maker_signature),
    ]
    if ses.timestamp is not None and _sm2_signed(ses.timestamp):
        values.append(_cms_value("timestamp authority", ses.timestamp))
    return values


def _sm2_signed(der: bytes) -> bool:
    """Whether a token's signer used SM2 (an RSA or ECDSA TSA's token holds no SM2 value)."""
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    return bool(signer_info["signature_algorithm"]["algorithm"].dotted in SM2_SIGNATURE_OIDS)


def _cms_value(role: str, der: bytes) -> Sm2Value:
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    cert = check_signed_data(der, b"").signer_cert  # finds the signer by its identifier
    assert cert is not None
    return Sm2Value(
        role, cert.public_key, signer_info["signed_attrs"].untag().dump(), signer_info["signature"].native
    )


def issued_values(sm2: DevSm2Pki, leaf: Sm2Credential) -> list[Sm2Value]:
    """The SM2 signatures of the development PKI: each certificate of ``leaf``'s chain by its
    issuer, and each CA's CRL."""
    certs = [leaf.certificate, *leaf.chain]
    values = [
        Sm2Value(
            f"certificate {index}",
            issuer.public_key,
            cert["tbs_certificate"].dump(),
            cert["signature_value"].native,
        )
        for index, (cert, issuer) in enumerate(zip(certs, certs[1:] + certs[-1:], strict=True))
    ]
    for ca in Sm2CaName:
        crl_value = crl.CertificateList.load(sm2.crl(ca))
        issuer = sm2.credential(ca).certificate
        values.append(
            Sm2Value(
                f"CRL {ca}",
                issuer.public_key,
                crl_value["tbs_cert_list"].dump(),
                crl_value["signature"].native,
            )
        )
    return values


def openssl_verifies(value: Sm2Value) -> bool:
    """Debian's OpenSSL 3 on one SM2 signature, with the GM/T 0009 default signer identity."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "key.pem").write_bytes(pem.armor("PUBLIC KEY", value.public_key.dump()))
        (base / "message").write_bytes(value.message)
        (base / "signature").write_bytes(value.signature)
        result = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-pubin",
                "-inkey",
                str(base / "key.pem"),
                "-in",
                str(base / "message"),
                "-sigfile",
                str(base / "signature"),
            ],
            capture_output=True,
            check=False,
            timeout=30,
        )
    return result.returncode == 0 and b"Verified Successfully" in result.stdout
