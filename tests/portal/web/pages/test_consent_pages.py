"""Consent as the party does it: read, sign, download, revoke; fresh login required; an own
certificate over the portal's draft works, not one changed after its signature;
nobody sees another party's consent (APL art. 61; FJ art. 19; SECURITY.md 7.5.1,
8.2.2)."""

from __future__ import annotations

import re

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.form_tools import populate_static_text_field
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from sqlalchemy import select, text
from starlette.applications import Starlette

from portal.models.eservice import Consent, ConsentRevocation
from portal.notary import dev_pki_dir, development_services
from signing import KeySigner, SignatureSettings, async_sign_pdf
from tests.conftest import CSRF_RE, Database
from tests.portal.cases.factories import agency_id
from tests.portal.web.login_flow import age_login, log_in
from tests.signing import hostile


async def _csrf(client: httpx.AsyncClient, path: str = "/consent") -> str:
    page = await client.get(path)
    match = CSRF_RE.search(page.text)
    assert match
    return match.group(1)


async def _sign(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {"csrf_token": await _csrf(client), "scope": "all", "confirm": "yes", **fields}
    return await client.post("/consent/sign", data=data)


async def test_party_reads_signs_and_downloads_the_confirmation(
        client: httpx.AsyncClient, app: Starlette, database: Database) -> None:
    await log_in(client, "zhangsan")
    page = await client.get("/consent")
    assert "您尚未签署电子送达确认书" in page.text
    assert "35010219850312123X" in page.text and "法律效果" in page.text  # who and what it means
    signed = await _sign(client)
    assert signed.status_code == 303, signed.text
    done = await client.get(signed.headers["location"])
    assert "电子送达确认已生效" in done.text and "文书到达邮箱的时间即为送达时间" in done.text
    link = re.search(r'href="(/consent/\d+/document\.pdf)"', done.text)
    assert link
    pdf = await client.get(link.group(1))
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    report = await app.state.notary.verify(pdf.content)
    assert report.passed and report.signatures[0].signer_name == "张三"
    async with database.sessions() as db:
        consent = (await db.execute(select(Consent))).scalar_one()
        kinds = (await db.execute(text("SELECT kind FROM evidence_events"))).scalars().all()
    assert consent.method == "remote_signature" and "consent_signed" in kinds


async def test_missing_confirmation_tick_shows_the_error_summary(client: httpx.AsyncClient) -> None:
    await log_in(client, "zhangsan")
    response = await _sign(client, confirm="")
    assert response.status_code == 422
    assert "提交的内容有以下问题" in response.text and 'href="#field-confirm"' in response.text


async def test_signing_needs_a_recent_login(client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Identity and sessions": re-authentication within minutes (v5.0.0-7.5.1); the
    # choices made come back after the login (nothing typed is lost), not the tick
    await log_in(client, "zhangsan")
    token = await _csrf(client)
    await age_login(database)
    chosen = str(await agency_id(database))
    form = {"csrf_token": token, "scope": "agencies", "agency": chosen, "confirm": "yes",
            "email_copy": "zhangsan@example.com"}
    response = await client.post("/consent/sign", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/login?reauth=1"
    async with database.sessions() as db:
        assert (await db.execute(select(Consent))).first() is None
    back = await log_in(client, "zhangsan")
    assert back.headers["location"] == "/consent"
    page = (await client.get("/consent")).text
    assert "已恢复您上次的选择（尚未签署）" in page
    assert f'value="{chosen}" checked' in page and 'value="agencies" checked' in page
    assert 'value="zhangsan@example.com"' in page and 'name="confirm" value="yes">' in page


async def test_revocation_is_signed_recorded_and_earlier_consent_kept(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    await _sign(client)
    revoked = await client.post("/consent/revoke", data={"csrf_token": await _csrf(client),
                                                         "confirm_revoke": "yes"})
    assert revoked.status_code == 303
    done = await client.get(revoked.headers["location"])
    assert "已撤回电子送达确认" in done.text
    page = await client.get("/consent")
    assert "已于" in page.text and "撤回书" in page.text
    async with database.sessions() as db:
        assert (await db.execute(select(ConsentRevocation))).scalar_one() is not None
        assert (await db.execute(select(Consent))).scalar_one() is not None  # never deleted


async def test_own_certificate_signature_over_the_draft_is_accepted(
        client: httpx.AsyncClient, app: Starlette, database: Database) -> None:
    await log_in(client, "zhangsan")
    stored = sorted([digest async for digest in app.state.blobs.digests()])
    draft = await client.post("/consent/draft.pdf", data={"scope": "all", "csrf_token": await _csrf(client)})
    assert draft.status_code == 200
    # the draft is rendered, not stored (the upload renders it again to compare)
    assert sorted([digest async for digest in app.state.blobs.digests()]) == stored
    assert (await client.get("/consent/draft.pdf?scope=all")).status_code == 405  # no e-mail in URLs
    pki = development_services(dev_pki_dir(app.state.settings.data_dir)).dev_pki
    assert pki is not None
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_party_certificate("张三", "OWN-CERT-1", key.public_key())
    own = KeySigner(key, certificate, pki.chain_of(certificate))
    signed = await async_sign_pdf(draft.content, own, SignatureSettings())
    tampered = await async_sign_pdf(draft.content.replace(b"/Title", b"/Titlf", 1), own, SignatureSettings())
    token = await _csrf(client)
    refused = await client.post("/consent/upload", data={"csrf_token": token},
                                files={"file": ("c.pdf", tampered, "application/pdf")})
    assert refused.status_code == 422 and "不是本平台为您生成的待签署确认书" in refused.text
    accepted = await client.post("/consent/upload", data={"csrf_token": token},
                                 files={"file": ("c.pdf", signed, "application/pdf")})
    assert accepted.status_code == 303, accepted.text
    async with database.sessions() as db:
        assert (await db.execute(select(Consent))).scalar_one().method == "uploaded_signature"


def _with_text_field(pdf: bytes) -> bytes:
    """``pdf`` with an empty text field added by an incremental update (before any signature)."""
    def add(writer: IncrementalPdfFileWriter) -> None:
        page_ref = writer.root["/Pages"]["/Kids"][0]
        widget = writer.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.TextStringObject("remark"),
            pdf_name("/F"): generic.NumberObject(4), pdf_name("/P"): page_ref,
            pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (72, 100, 320, 130)]),
        }))
        page = page_ref.get_object()
        page[pdf_name("/Annots")] = generic.ArrayObject([*page.get("/Annots", ()), widget])
        writer.update_container(page)
        writer.root[pdf_name("/AcroForm")] = writer.add_object(generic.DictionaryObject({
            pdf_name("/Fields"): generic.ArrayObject([widget]),
            pdf_name("/DA"): generic.TextStringObject("/Helv 0 Tf 0 g")}))
        writer.update_root()

    return hostile.edit(pdf, add)


async def test_a_consent_changed_after_its_signature_is_refused(
        client: httpx.AsyncClient, app: Starlette, database: Database) -> None:
    # the party signs our draft (with a text field added before signing), then fills
    # the field in: the signature permits form filling and stays valid, but what was signed is
    # not all the file shows, so consent does not count
    await log_in(client, "zhangsan")
    draft = await client.post("/consent/draft.pdf", data={"scope": "all", "csrf_token": await _csrf(client)})
    pki = development_services(dev_pki_dir(app.state.settings.data_dir)).dev_pki
    assert pki is not None
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_party_certificate("张三", "OWN-CERT-2", key.public_key())
    own = KeySigner(key, certificate, pki.chain_of(certificate))
    signed = await async_sign_pdf(_with_text_field(draft.content), own, SignatureSettings())
    filled = hostile.edit(signed, lambda writer: populate_static_text_field(
        writer, "remark", TextBoxStyle(), "仅同意市场监管局送达"))
    assert filled.startswith(draft.content)  # our draft, unaltered, with updates after it
    report = await app.state.notary.verify(filled)
    assert report.passed and report.changed_after_signing  # valid, yet more than was signed
    token = await _csrf(client)
    refused = await client.post("/consent/upload", data={"csrf_token": token},
                                files={"file": ("c.pdf", filled, "application/pdf")})
    assert refused.status_code == 422 and "确认书在签名后被改动过" in refused.text
    async with database.sessions() as db:
        assert (await db.execute(select(Consent))).first() is None
    accepted = await client.post("/consent/upload", data={"csrf_token": token},
                                 files={"file": ("c.pdf", signed, "application/pdf")})
    assert accepted.status_code == 303, accepted.text


async def test_another_partys_consent_document_is_not_found(
        client: httpx.AsyncClient, app: Starlette) -> None:
    # v5.0.0-8.2.2: a foreign id answers 404
    await log_in(client, "zhangsan")
    signed = await _sign(client)
    document = signed.headers["location"].replace("/done/", "/") + "/document.pdf"
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with other:
        await log_in(other, "wangwu")
        assert (await other.get(document)).status_code == 404
        assert (await other.get(signed.headers["location"])).status_code == 404
