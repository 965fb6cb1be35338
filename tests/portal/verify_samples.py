"""PDFs and OFDs for the verification tests of the page, the API and the browser, and how to send them.

The sealed samples are sealed by an agency of the *app's own* development PKI (the one
``portal.notary`` opens under ``DATA_DIR/pki``), so the app trusts them; the attacked ones
reuse the hostile-corpus builders of ``tests/signing``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from portal.notary import dev_pki_dir, development_services
from signing import KeySigner, PadesLevel, SignatureSettings, TrustSettings, async_sign_pdf
from signing.ofd_build import SignedValueKind, build_ofd, seal_ofd
from tests.signing import hostile
from tests.signing.gm_corpus import national_pdf
from tests.signing.sample_pdfs import make_pdf, page_content

AGENCY_NAME = "福州市鼓楼区市场监督管理局"
AGENCY_USCC = "11350102MB0000001X"
VALID_SUMMARY = "此文件的签章有效，签署后未被修改"
VALID_WITH_CHANGES_SUMMARY = "此文件的签章有效；签署后有允许范围内的修改"
CHANGED_AFTER_SIGNING_WARNING = "注意：此文件在盖章或签名之后被改动过"
MODIFIED_SUMMARY = "签署后内容被修改"
PDF = "application/pdf"
SEAL_NAME = f"{AGENCY_NAME}电子印章"
SEAL_MAKER = "国密开发测试制章系统"


def trust(data_dir: Path) -> TrustSettings:
    """What the app under test trusts (its development PKI)."""
    return development_services(dev_pki_dir(data_dir)).trust


async def sealed_pdf(data_dir: Path, level: PadesLevel = PadesLevel.B_T) -> bytes:
    """A decision sealed by the agency with a visible seal and a signature timestamp."""
    services = development_services(dev_pki_dir(data_dir))
    assert services.dev_pki is not None
    seal = KeySigner.from_credential(services.dev_pki.agency_seal(AGENCY_NAME, AGENCY_USCC))
    return await async_sign_pdf(make_pdf(2), seal, SignatureSettings(level=level),
                                timestamps=services.timestamps, trust=services.trust)


def sealed_ofd(data_dir: Path) -> bytes:
    """An OFD decision sealed with the agency's GB/T 38540-2020 seal from the app's SM2 PKI."""
    pki = development_services(dev_pki_dir(data_dir)).dev_pki
    assert pki is not None
    signer, seal = pki.sm2.seal_file(AGENCY_NAME, AGENCY_USCC)
    document = build_ofd("行政处罚决定书", ["当事人：福州示例科技有限公司", "罚款人民币伍仟元整"])
    return seal_ofd(document, SignedValueKind.SES, signer.certificate, signer.private_key, seal=seal)


def seal_in_pdf(data_dir: Path) -> bytes:
    """A PDF decision whose signature's ``/Contents`` is the agency's GB/T 38540 seal."""
    pki = development_services(dev_pki_dir(data_dir)).dev_pki
    assert pki is not None
    signer, seal = pki.sm2.seal_file(AGENCY_NAME, AGENCY_USCC)
    return national_pdf(make_pdf(1), signer, seal=seal)


async def form_filled(data_dir: Path) -> bytes:
    """A decision sealed with an empty text field, filled in afterwards over the sealed text:
    a change the seal permits, so the seal stays valid while the file shows more than was sealed."""
    from pyhanko.pdf_utils.form_tools import populate_static_text_field
    from pyhanko.pdf_utils.text import TextBoxStyle

    services = development_services(dev_pki_dir(data_dir))
    assert services.dev_pki is not None
    seal = KeySigner.from_credential(services.dev_pki.agency_seal(AGENCY_NAME, AGENCY_USCC))
    sealed = await async_sign_pdf(make_pdf(1, form_field=True), seal, SignatureSettings())
    return hostile.edit(sealed, lambda writer: populate_static_text_field(
        writer, "remark", TextBoxStyle(), "罚款金额：50元"))


def modified(sealed: bytes) -> bytes:
    """The sealed decision with its first page's text replaced by an incremental update."""
    replaced = hostile.stream("", page_content(1, ("处罚决定：罚款人民币贰拾万元整。",)))
    return hostile.append_update(sealed, {hostile.FIRST_CONTENT: replaced})


def damaged() -> bytes:
    """Has the PDF header, but nothing a parser can read after it."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 40


def encrypted() -> bytes:
    return hostile.encrypted(make_pdf(1))


def upload(data: bytes, filename: str = "decision.pdf", media_type: str = PDF
           ) -> dict[str, tuple[str, bytes, str]]:
    """The multipart ``files`` argument for httpx."""
    return {"file": (filename, data, media_type)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
