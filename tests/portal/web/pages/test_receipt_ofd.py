"""Fiscal e-receipts as OFD (GB/T 33190) sealed per GB/T 38540 with the portal's SM2 seal (FJ
art. 20, e-receipt): issued beside the PDF or instead of it as ``RECEIPT_FORMATS`` says,
downloaded from the fine page, and valid for the receipt check page, for ``/verify`` and for
OpenSSL's SM2 verification of every signature value in it. The seal signature carries an
RFC 3161 timestamp over its value (GB/T 38540-2020 ``timeStamp``), so the receipt shows it was
sealed while the portal's certificate was valid after that certificate expires; a TSA that is
down postpones the receipt job, which issues the receipt once the TSA answers again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

import payments
from payments.receipt_pdf import qr_png
from portal.database import utcnow
from portal.errors import ConfigurationError
from portal.models.evidence import EvidenceEvent
from portal.models.jobs import Job
from portal.models.receipts import FiscalReceipt, ReceiptDocument
from portal.notary import Notary
from portal.services import fiscal_receipts
from portal.settings import load_settings
from portal.workers import payments as payment_jobs
from signing import AlgorithmFamily, HttpTimestampClient
from signing.ses import read_signature
from tests.builders import fine_world
from tests.conftest import Database, csrf_from
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)
from tests.signing.gm_corpus import entries, openssl_verifies, value_sm2_values

OFD_LINK = re.compile(r'href="(/fines/[0-9a-f]+/receipts/(\d{8})/(\d{10})/ofd)"')


async def _paid(database: Database, app: Starlette, client: httpx.AsyncClient) -> str:
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(client, body, signed(app.state.settings, body))).status_code == 200
    return fw.fine_id


async def test_receipt_issued_as_ofd_downloads_verifies_on_every_page_and_openssl_agrees(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # development has the GB/T 38540 seal, so receipts are PDF and OFD by default
    assert app.state.settings.payments.receipt_formats == ("pdf", "ofd")
    fine_id = await _paid(database, app, client)
    before = utcnow()
    assert await payment_jobs.JOBS.drain(payment_deps(app, database)) == 1
    after = utcnow()
    await log_in(client, "zhangsan")
    page = (await client.get(f"/fines/{fine_id}")).text
    assert "下载财政电子票据（PDF）" in page and "下载财政电子票据（OFD）" in page
    match = OFD_LINK.search(page)
    assert match is not None
    link, code, number = match.groups()
    download = await client.get(link)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/ofd"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert f"{code}_{number}.ofd" in download.headers["content-disposition"]
    ofd = download.content

    files = entries(ofd)
    async with database.sessions() as db:
        receipt = (await db.execute(select(FiscalReceipt))).scalar_one()
        documents = {d.format: d for d in (await db.execute(select(ReceiptDocument))).scalars()}
        issued = (await db.execute(select(EvidenceEvent).where(EvidenceEvent.kind == "receipt_issued"))
                  ).scalar_one()
    assert set(documents) == {"pdf", "ofd"} and {d.event_hash for d in documents.values()} == {issued.hash}
    recorded = {name: d.document_sha256 for name, d in documents.items()}
    assert json.loads(issued.payload)["documents"] == recorded
    # the structured data travels as the attachment, the page says what the PDF says
    assert files["Doc_0/Attachs/receipt.json"] == receipt.data.encode()
    content = files["Doc_0/Pages/Page_0/Content.xml"].decode()
    for text in ("财政电子票据", receipt.number, receipt.check_code, "壹仟元整", "开票单位："):
        assert text in content, text
    verify_url = fiscal_receipts.verify_url(app.state.settings.public_url, code, number, receipt.check_code)
    assert "<ofd:ImageObject" in content and files["Doc_0/Res/image_0.png"] == qr_png(verify_url)
    # the stamp is centred over the issuing unit's line, as a paper seal would be
    issuer_top = re.search(r'Boundary="20 ([\d.]+) 170 8"[^>]*><ofd:TextCode[^>]*>开票单位：', content)
    stamp = re.search(r'<ofd:StampAnnot [^>]*Boundary="([\d.]+) ([\d.]+) 40.0 40.0"',
                      files["Doc_0/Signs/Sign_0/Signature.xml"].decode())
    assert issuer_top is not None and stamp is not None
    assert float(stamp.group(2)) + 20 == float(issuer_top.group(1)) + 4

    # the portal's verifier: a GB/T 38540 seal of the portal, every file protected
    report = await app.state.notary.verify(ofd)
    assert report.passed, report.summary
    (signature,) = report.signatures
    assert signature.algorithm_family is AlgorithmFamily.SM2 and signature.seal is not None
    assert not report.unprotected_files
    # sealed with a timestamp from the development SM2 TSA, taken while the job ran
    assert signature.timestamp is not None and signature.timestamp.valid
    assert signature.timestamp.tsa == "国密开发测试时间戳服务"
    assert before - dt.timedelta(seconds=1) <= signature.timestamp.time <= after
    # OpenSSL on every SM2 value: the signer's over Signature.xml, the seal maker's and the TSA's
    values = value_sm2_values(files["Doc_0/Signs/Sign_0/SignedValue.dat"])
    assert {value.role for value in values} == {"signer", "seal maker", "timestamp authority"}
    assert all(openssl_verifies(value) for value in values), [value.role for value in values]

    # the receipt check page checks both documents it holds
    checked = await client.get("/receipts/verify", params={
        "code": code, "number": number, "check": receipt.check_code})
    assert "电子印章（PDF）：<strong>有效</strong>" in checked.text
    assert "电子印章（OFD，GB/T 38540 国密印章）：<strong>有效</strong>" in checked.text
    assert 'class="notice success"' in checked.text
    # and /verify takes the downloaded OFD
    token = await csrf_from(client, "/verify")
    uploaded = await client.post("/verify", data={"csrf_token": token},
                                 files={"file": (f"{code}_{number}.ofd", ofd, "application/ofd")})
    assert uploaded.status_code == 303
    shown = (await client.get(uploaded.headers["location"])).text
    assert "此文件的签章有效，签署后未被修改" in shown and "OFD 版式文档（GB/T 33190）" in shown
    assert "由“国密开发测试时间戳服务”签发，时间戳有效" in shown
    report_json = (await client.get(uploaded.headers["location"] + "/json")).json()
    stamp = report_json["signatures"][0]["timestamp"]
    assert stamp["valid"] is True and dt.datetime.fromisoformat(stamp["time"]) == signature.timestamp.time


async def test_a_tsa_that_is_down_postpones_the_ofd_receipt_until_it_answers(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await _paid(database, app, client)
    services = await app.state.notary.services()
    down = Notary(lambda: dataclasses.replace(
        services, seal_timestamps=HttpTimestampClient("http://127.0.0.1:9/tsa", timeout=2)))
    deps = dataclasses.replace(payment_deps(app, database, notary=down), formats=("ofd",))
    assert await payment_jobs.JOBS.drain(deps) == 1
    async with database.sessions() as db:
        job = (await db.execute(select(Job).where(Job.kind == payment_jobs.RECEIPT_JOB))).scalar_one()
        assert not (await db.execute(select(ReceiptDocument))).scalars().all()
    assert not job.done and job.last_error == "TimestampUnavailable"
    # the TSA is back: the job's next attempt issues the receipt, timestamped
    working = dataclasses.replace(deps, notary=app.state.notary)
    assert await payment_jobs.JOBS.run_due(working, now=job.next_attempt_at + dt.timedelta(seconds=1)) == 1
    async with database.sessions() as db:
        (document,) = (await db.execute(select(ReceiptDocument))).scalars().all()
    ofd = await app.state.blobs.get(document.document_sha256)
    assert read_signature(entries(ofd)["Doc_0/Signs/Sign_0/SignedValue.dat"]).timestamp is not None


async def test_receipt_issued_as_ofd_alone_offers_no_pdf(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    # RECEIPT_FORMATS=ofd: the OFD instead of the PDF
    fine_id = await _paid(database, app, client)
    seal = StubSeal()
    deps = dataclasses.replace(payment_deps(app, database, notary=seal), formats=("ofd",))
    assert await payment_jobs.JOBS.drain(deps) == 1
    assert seal.calls == 0 and seal.ofd_calls == 1
    await log_in(client, "zhangsan")
    page = (await client.get(f"/fines/{fine_id}")).text
    assert "下载财政电子票据（OFD）" in page and "下载财政电子票据（PDF）" not in page
    assert "查看财政电子票据" not in page
    match = OFD_LINK.search(page)
    assert match is not None
    pdf_link = match.group(1).removesuffix("/ofd")
    assert (await client.get(pdf_link)).status_code == 404
    ofd = (await client.get(match.group(1))).content
    assert payments.receipt_from_json(entries(ofd)["Doc_0/Attachs/receipt.json"]).number == match.group(3)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), **extra}


@pytest.mark.parametrize(("given", "formats"), [
    ("", ("pdf", "ofd")), ("pdf", ("pdf",)), ("OFD", ("ofd",)), ("ofd, pdf", ("pdf", "ofd"))])
def test_receipt_formats_setting(tmp_path: Path, given: str, formats: tuple[str, ...]) -> None:
    settings = load_settings(_env(tmp_path, RECEIPT_FORMATS=given))
    assert settings.payments.receipt_formats == formats


def test_receipt_formats_refuses_unknown_formats_and_an_ofd_without_the_sm2_seal(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="pdf, ofd or pdf,ofd"):
        load_settings(_env(tmp_path, RECEIPT_FORMATS="xml"))
    production = _env(tmp_path, TRUST_ROOTS_DIR=str(tmp_path), TSA_URL="https://tsa.example.invalid",
                      PORTAL_SEAL_P12=str(tmp_path / "seal.p12"))
    assert load_settings(production).payments.receipt_formats == ("pdf",)  # no GB/T 38540 seal
    with pytest.raises(ConfigurationError, match="needs the portal's GB/T 38540 seal"):
        load_settings({**production, "RECEIPT_FORMATS": "pdf,ofd"})
