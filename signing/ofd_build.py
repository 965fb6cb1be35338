"""Writing OFD files and sealing them per GB/T 33190 / GB/T 38540 (the development seal system).

``build_ofd(title, lines)`` writes a small one-page OFD document (text on an A4 page, and
optionally pictures and attachments).
``seal_ofd(data, seal, signer, ...)`` adds one signature the way GB/T 33190 §18 describes it:
a ``Signature.xml`` whose ``SignedInfo`` names every file already in the package with its SM3
digest (``CheckMethod`` SM3, including ``Signatures.xml`` as it stands with the new entry),
the stamp's page and box (``StampAnnot``), the seal file, and a ``SignedValue`` over the
bytes of that ``Signature.xml``: a GB/T 38540 ``SES_Signature`` (``SesVersion.V4`` or ``V1``)
or a GB/T 35275 SM2 PKCS#7 detached signature. Sealing again adds a second signature that
protects the first. The portal's fiscal e-receipts and the test corpus are made with it.
``timestamp_newest_seal(data, stamp)`` then puts an RFC 3161 token over the newest seal
signature's value into its ``timeStamp`` (GB/T 38540-2020): the token covers the signature
value, so it can only be asked for once the signature exists, and it lies outside what the
signer signed and outside what the references protect.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import io
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from asn1crypto import x509

from signing.gm_cms import sign_signed_data
from signing.ofd_package import OFD_NAMESPACE
from signing.ses import attach_timestamp, build_signature, read_signature
from signing.sm2 import SM2_WITH_SM3_OID, SM3_OID, Sm2PrivateKey, sm3

__all__ = ["OfdImage", "SignedValueKind", "build_ofd", "line_top_mm", "seal_ofd", "timestamp_newest_seal"]

_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


class SignedValueKind(enum.StrEnum):
    SES = "SES"
    """GB/T 38540 seal signature (the seal's version decides V4 or V1)."""
    PKCS7 = "PKCS7"
    """GB/T 35275 SM2 detached ``SignedData`` (a digital signature without a seal picture)."""


@dataclass(frozen=True)
class OfdImage:
    """A PNG picture drawn on the page in ``box_mm`` (x, y, width, height from the top left)."""

    png: bytes
    box_mm: tuple[float, float, float, float]


def build_ofd(
    title: str,
    lines: Iterable[str],
    *,
    page_size_mm: tuple[float, float] = (210.0, 297.0),
    created: dt.date | None = None,
    images: Sequence[OfdImage] = (),
    attachments: Mapping[str, bytes] | None = None,
) -> bytes:
    """A one-page OFD with ``title`` and ``lines`` of text (宋体, 5 mm; a line wider than the
    text box is wrapped) and ``images`` (GB/T 33190 §13, from the document's resources).
    ``created`` is the document's creation date (default today: a document made twice from
    the same values with it is the same bytes). ``attachments`` (file name → content) become
    the document's attachments (GB/T 33190 §20), as the structured data of a fiscal e-receipt
    travels with it. Every object has its own ID, ``MaxUnitID`` the largest."""
    width, height = page_size_mm
    today = (created or dt.datetime.now(dt.UTC).date()).isoformat()
    wrapped = [part for line in [title, *lines] for part in _wrapped(line)]
    texts = [
        f'<ofd:TextObject ID="{10 + index}" Boundary="20 {20 + index * 9} 170 8" Font="2" Size="5">'
        f'<ofd:TextCode X="0" Y="5">{escape(line)}</ofd:TextCode></ofd:TextObject>'
        for index, line in enumerate(wrapped)
    ]
    next_id = 10 + len(wrapped)
    media, drawn = [], []
    for index, image in enumerate(images):
        media_id, object_id = next_id, next_id + 1
        next_id += 2
        x, y, w, h = image.box_mm
        media.append(f'<ofd:MultiMedia ID="{media_id}" Type="Image" Format="PNG">'
                     f"<ofd:MediaFile>image_{index}.png</ofd:MediaFile></ofd:MultiMedia>")
        drawn.append(f'<ofd:ImageObject ID="{object_id}" Boundary="{x} {y} {w} {h}" CTM="{w} 0 0 {h} 0 0" '
                     f'ResourceID="{media_id}"/>')
    attached = dict(attachments or {})
    attachment_list = "".join(
        f'<ofd:Attachment ID="{next_id + index}" Name={quoteattr(name)} '
        f'Format={quoteattr(name.rpartition(".")[2])} '
        f'CreationDate="{today}" Size="{len(content) / 1024:.3f}" Visible="true" Usage="none">'
        f"<ofd:FileLoc>{escape(name)}</ofd:FileLoc></ofd:Attachment>"
        for index, (name, content) in enumerate(attached.items())
    )
    max_id = next_id + len(attached) - 1
    files = {
        "OFD.xml": f'{_HEADER}<ofd:OFD xmlns:ofd="{OFD_NAMESPACE}" Version="1.0" DocType="OFD">'
        f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>{sm3(title.encode()).hex()[:32]}</ofd:DocID>"
        f"<ofd:Title>{escape(title)}</ofd:Title><ofd:CreationDate>{today}</ofd:CreationDate></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'{_HEADER}<ofd:Document xmlns:ofd="{OFD_NAMESPACE}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{max_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {width} {height}"
        "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        f"{'<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>' if media else ''}</ofd:CommonData>"
        '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
        f"{'<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>' if attached else ''}</ofd:Document>",
        "Doc_0/PublicRes.xml": f'{_HEADER}<ofd:Res xmlns:ofd="{OFD_NAMESPACE}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>',
        "Doc_0/Pages/Page_0/Content.xml": f'{_HEADER}<ofd:Page xmlns:ofd="{OFD_NAMESPACE}"><ofd:Content>'
        f'<ofd:Layer ID="3">{"".join(texts)}{"".join(drawn)}</ofd:Layer></ofd:Content></ofd:Page>',
    }
    if media:
        files["Doc_0/DocumentRes.xml"] = (
            f'{_HEADER}<ofd:Res xmlns:ofd="{OFD_NAMESPACE}" BaseLoc="Res"><ofd:MultiMedias>'
            f"{''.join(media)}</ofd:MultiMedias></ofd:Res>"
        )
    if attached:
        files["Doc_0/Attachs/Attachments.xml"] = (
            f'{_HEADER}<ofd:Attachments xmlns:ofd="{OFD_NAMESPACE}">{attachment_list}</ofd:Attachments>'
        )
    encoded = {name: text.encode() for name, text in files.items()}
    encoded.update({f"Doc_0/Res/image_{index}.png": image.png for index, image in enumerate(images)})
    encoded.update({f"Doc_0/Attachs/{name}": content for name, content in attached.items()})
    return _zip(encoded)


_LINE_EMS = 34
"""Ems of 5 mm in the 170 mm text box; a Latin letter or digit is half an em."""


def line_top_mm(title: str, lines: Sequence[str], index: int) -> float:
    """How far from the top of ``build_ofd``'s page line ``index`` of ``lines`` starts (the
    title and wrapped lines above it counted): where a stamp over that line goes."""
    above = sum(len(_wrapped(line)) for line in [title, *lines[:index]])
    return 20.0 + above * 9


def _wrapped(line: str) -> list[str]:
    parts, current, used = [], "", 0.0
    for char in line:
        em = 0.5 if char.isascii() else 1.0
        if current and used + em > _LINE_EMS:
            parts.append(current)
            current, used = "", 0.0
        current += char
        used += em
    return [*parts, current]


def seal_ofd(
    data: bytes,
    signed_value_kind: SignedValueKind,
    signer_cert: x509.Certificate,
    signer_key: Sm2PrivateKey,
    *,
    seal: bytes | None = None,
    chain: tuple[x509.Certificate, ...] = (),
    page_id: str = "1",
    box_mm: tuple[float, float, float, float] = (130.0, 230.0, 40.0, 40.0),
) -> bytes:
    """``data`` with one more signature (``seal`` is the DER ``SESeal`` for ``SES``)."""
    files = _unzip(data)
    index = sum(
        1 for name in files if name.startswith("Doc_0/Signs/Sign_") and name.endswith("/Signature.xml")
    )
    folder = f"Doc_0/Signs/Sign_{index}"
    entries = _signature_entries(files)
    entries.append(
        f'<ofd:Signature ID="{index + 1}" Type="{"Seal" if seal else "Sign"}" '
        f'BaseLoc="Sign_{index}/Signature.xml"/>'
    )
    files["Doc_0/Signs/Signatures.xml"] = (
        f'{_HEADER}<ofd:Signatures xmlns:ofd="{OFD_NAMESPACE}"><ofd:MaxSignId>{index + 1}</ofd:MaxSignId>'
        f"{''.join(entries)}</ofd:Signatures>"
    ).encode()
    if index == 0:
        files["OFD.xml"] = files["OFD.xml"].replace(
            b"</ofd:DocRoot>", b"</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>"
        )
    if seal is not None:
        files[f"{folder}/Seal.esl"] = seal
    references = "".join(
        f"<ofd:Reference FileRef={quoteattr('/' + name)}>"
        f"<ofd:CheckValue>{base64.b64encode(sm3(content)).decode()}</ofd:CheckValue></ofd:Reference>"
        for name, content in sorted(files.items())
    )
    x, y, w, h = box_mm
    seal_part = "<ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal>" if seal is not None else ""
    signature_xml = (
        f'{_HEADER}<ofd:Signature xmlns:ofd="{OFD_NAMESPACE}"><ofd:SignedInfo>'
        '<ofd:Provider ProviderName="行政执法服务门户" Version="1.0" Company="开发测试"/>'
        f"<ofd:SignatureMethod>{SM2_WITH_SM3_OID}</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%SZ')}</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{SM3_OID}">{references}</ofd:References>'
        f'<ofd:StampAnnot ID="1" PageRef={quoteattr(page_id)} Boundary="{x} {y} {w} {h}"/>{seal_part}'
        "</ofd:SignedInfo><ofd:SignedValue>SignedValue.dat</ofd:SignedValue></ofd:Signature>"
    ).encode()
    if signed_value_kind is SignedValueKind.SES:
        if seal is None:
            raise ValueError("an SES signature needs a seal")
        value = build_signature(
            seal,
            data=signature_xml,
            property_info=f"/{folder}/Signature.xml",
            signer_cert=signer_cert,
            signer_key=signer_key,
        )
    else:
        value = sign_signed_data(signature_xml, signer_cert, signer_key, chain)
    files[f"{folder}/Signature.xml"] = signature_xml
    files[f"{folder}/SignedValue.dat"] = value
    return _zip(files)


async def timestamp_newest_seal(data: bytes, stamp: Callable[[bytes], Awaitable[bytes]]) -> bytes:
    """``data`` with ``await stamp(value)`` (a DER RFC 3161 token over ``value``) as the
    ``timeStamp`` of its newest signature, a GB/T 38540-2020 ``SES_Signature`` whose signature
    value is ``value``; ``ValueError`` if the newest signature is not one."""
    files = _unzip(data)
    count = sum(
        1 for name in files if name.startswith("Doc_0/Signs/Sign_") and name.endswith("/Signature.xml")
    )
    name = f"Doc_0/Signs/Sign_{count - 1}/SignedValue.dat"
    if name not in files:
        raise ValueError("the OFD has no signature to timestamp")
    token = await stamp(read_signature(files[name]).signature)
    files[name] = attach_timestamp(files[name], token)
    return _zip(files)


def _signature_entries(files: dict[str, bytes]) -> list[str]:
    existing = files.get("Doc_0/Signs/Signatures.xml")
    if existing is None:
        return []
    text = existing.decode()
    entries = []
    position = text.find("<ofd:Signature ")
    while position != -1:
        end = text.index("/>", position) + 2
        entries.append(text[position:end])
        position = text.find("<ofd:Signature ", end)
    return entries


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
