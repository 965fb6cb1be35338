"""Verifying a PDF or OFD in a real browser: upload, report, both downloads, with and without
JavaScript.

The sealed samples are sealed by an agency of the live server's own development PKI
(``DATA_DIR/pki``, which ``portal.notary`` generated at start-up and the server trusts): a
PAdES seal on a PDF, and a GB/T 38540 SM2 seal on an OFD from its national-standard half.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Download, Page, expect

from portal.notary import dev_pki_dir
from signing import DevTimestampClient, KeySigner, PadesLevel, SignatureSettings, async_sign_pdf, open_dev_pki
from signing.ofd_build import SignedValueKind, build_ofd, seal_ofd
from tests.browser.conftest import LiveServer, assert_accessible
from tests.signing.sample_pdfs import make_pdf

AGENCY = ("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
VALID = "此文件的签章有效，签署后未被修改"


@pytest.fixture
async def sealed_file(live_server: LiveServer, tmp_path: Path) -> Path:
    pki = open_dev_pki(dev_pki_dir(live_server.data_dir))
    seal = KeySigner.from_credential(pki.agency_seal(*AGENCY))
    sealed = await async_sign_pdf(make_pdf(1), seal, SignatureSettings(level=PadesLevel.B_T),
                                  timestamps=DevTimestampClient(pki.tsa()))
    path = tmp_path / "行政处罚决定书.pdf"
    await asyncio.to_thread(path.write_bytes, sealed)
    return path


@pytest.fixture
async def sealed_ofd(live_server: LiveServer, tmp_path: Path) -> Path:
    pki = open_dev_pki(dev_pki_dir(live_server.data_dir))
    signer, seal = await asyncio.to_thread(pki.sm2.seal_file, *AGENCY)
    document = build_ofd("行政处罚决定书", ["罚款人民币伍仟元整"])
    sealed = seal_ofd(document, SignedValueKind.SES, signer.certificate, signer.private_key, seal=seal)
    path = tmp_path / "行政处罚决定书.ofd"
    await asyncio.to_thread(path.write_bytes, sealed)
    return path


async def _content(download: Download) -> bytes:
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


async def test_upload_a_sealed_pdf_read_the_report_and_download_it(
        page: Page, live_server: LiveServer, sealed_file: Path, tmp_path: Path) -> None:
    await page.goto(live_server.url + "/")
    await page.get_by_role("link", name="验证 PDF 文件").click()
    await expect(page.locator("h1")).to_have_text("签章验证")
    await expect(page.locator("#verify-progress")).to_be_hidden()  # until htmx is posting
    await assert_accessible(page)

    await page.get_by_label("要验证的 PDF 文件").set_input_files(sealed_file)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator(".verdict-summary")).to_have_text(VALID)
    await expect(page).to_have_url(re.compile(r"/verify/reports/[A-Za-z0-9_-]{22}$"))  # pushed by htmx
    await expect(page.locator("h1")).to_have_text("签章验证结果")
    await expect(page.locator("h1")).to_be_focused()  # htmx honours autofocus after the swap
    await expect(page.get_by_role("heading", name="第 1 个签名：电子印章")).to_be_visible()
    await expect(page.locator("main")).to_contain_text(AGENCY[0])
    await assert_accessible(page)

    async with page.expect_download() as json_download:
        await page.get_by_role("link", name="下载验证报告（JSON，供程序读取）").click()
    download = await json_download.value
    assert download.suggested_filename.startswith("签章验证报告_")
    report = json.loads(await _content(download))
    assert report["indication"] == "TOTAL_PASSED" and report["summary"] == VALID

    async with page.expect_download() as pdf_download:
        await page.get_by_role("link", name="下载盖章的验证报告（PDF）").click()
    download = await pdf_download.value
    assert download.suggested_filename.endswith(".pdf")
    assert (await _content(download)).startswith(b"%PDF-")


async def test_without_javascript_the_form_posts_and_redirects_to_the_report(
        browser: Browser, live_server: LiveServer, sealed_file: Path) -> None:
    context = await browser.new_context(locale="zh-CN", java_script_enabled=False,
                                        viewport={"width": 390, "height": 844})
    try:
        page = await context.new_page()
        await page.goto(live_server.url + "/verify")
        await page.get_by_label("要验证的 PDF 文件").set_input_files(sealed_file)
        await page.get_by_role("button", name="开始验证").click()
        await expect(page).to_have_url(re.compile(r"/verify/reports/[A-Za-z0-9_-]{22}$"))
        await expect(page.locator(".verdict-summary")).to_have_text(VALID)
    finally:
        await context.close()


async def test_a_file_that_is_not_a_pdf_gets_a_chinese_error(page: Page, live_server: LiveServer,
                                                             tmp_path: Path) -> None:
    fake = tmp_path / "决定书.pdf"
    await asyncio.to_thread(fake.write_text, "这不是 PDF 文件")
    await page.goto(live_server.url + "/verify")
    await page.get_by_label("要验证的 PDF 文件").set_input_files(fake)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator(".error-summary")).to_contain_text("所选文件不是 PDF 文件")
    await assert_accessible(page)


async def test_upload_an_ofd_and_read_its_national_standard_seal(
        page: Page, live_server: LiveServer, sealed_ofd: Path) -> None:
    await page.goto(live_server.url + "/verify")
    await page.get_by_label("要验证的 PDF 文件或 OFD 文件").set_input_files(sealed_ofd)
    await page.get_by_role("button", name="开始验证").click()
    await expect(page.locator(".verdict-summary")).to_have_text(VALID)
    section = page.locator("section.signature")
    await expect(section.get_by_role("heading", name="第 1 个签名：电子印章")).to_be_visible()
    for text in ("国密 SM2（SM3 摘要）", f"{AGENCY[0]}电子印章", "国密开发测试制章系统", AGENCY[1],
                 "第 1 页，距页面左边 130 毫米", "GB/T 38540-2020 电子签章", "TOTAL_PASSED"):
        await expect(section).to_contain_text(text)
    picture = section.get_by_role("img", name=f"印章“{AGENCY[0]}电子印章”的图像")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0  # a PNG loaded
    await assert_accessible(page)
