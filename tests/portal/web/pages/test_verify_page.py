"""The public verification page /verify: upload, report page, downloads, limits and refusals
(SECURITY.md "Uploads and PDFs", "Browser side", "Business logic"), on both databases."""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, inspect, select
from starlette.applications import Starlette

from portal.app import create_app
from portal.database import transaction, utcnow
from portal.models import VerificationReportRecord
from portal.services import verification_reports
from signing import Indication, SignatureKind, VerificationContext, verify_pdf
from tests.conftest import Database, csrf_from, make_settings
from tests.portal import verify_samples as samples
from tests.signing.gm_corpus import entries, rezip
from tests.signing.hostile import long_last_line, many_revisions
from tests.signing.sample_pdfs import make_pdf

REPORT_URL = re.compile(r"^/verify/reports/([A-Za-z0-9_-]+)$")


async def _upload(client: httpx.AsyncClient, data: bytes, *, filename: str = "decision.pdf",
                  headers: dict[str, str] | None = None) -> httpx.Response:
    token = await csrf_from(client, "/verify")
    return await client.post("/verify", data={"csrf_token": token},
                             files=samples.upload(data, filename), headers=headers)


async def _report_path(client: httpx.AsyncClient, data: bytes) -> str:
    response = await _upload(client, data)
    assert response.status_code == 303, response.text
    path = response.headers["location"]
    assert REPORT_URL.match(path), path
    return path


async def _stored_reports(database: Database) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(func.count()).select_from(VerificationReportRecord))).scalar_one()


async def test_upload_form_is_multipart_with_csrf_and_a_progress_line(client: httpx.AsyncClient) -> None:
    response = await client.get("/verify")
    assert response.status_code == 200
    page = response.text
    assert "<h1>签章验证</h1>" in page
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    assert 'type="file"' in page and 'name="file"' in page
    # htmx enhancement: background post with our own indicator (includeIndicatorStyles=false)
    assert 'hx-indicator="#verify-progress"' in page and "正在验证，请稍候…" in page
    assert response.headers["cache-control"] == "private, no-store"


async def test_home_page_links_to_verification(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    assert 'href="/verify"' in page and "上传 PDF 文件或 OFD 文件，核验电子印章和电子签名" in page


async def test_sealed_pdf_gives_a_valid_report_with_the_signer(client: httpx.AsyncClient, data_dir: Path,
                                                                database: Database) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    path = await _report_path(client, sealed)
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"  # v5.0.0-14.3.2
    page = response.text
    summary = page.index(samples.VALID_SUMMARY)
    assert summary < page.index("第 1 个签名：电子印章")  # the plain sentence comes first
    assert samples.AGENCY_NAME in page and samples.AGENCY_USCC in page
    assert "开发测试时间戳服务" in page and "（北京时间）" in page  # timestamp, in China time
    assert "PAdES B-LT" in page or "PAdES B-T" in page
    assert "未吊销" in page and "受信任的根证书" in page  # the chain with revocation status
    assert samples.sha256(sealed) in page
    assert await _stored_reports(database) == 1


async def test_sealed_ofd_report_names_the_seal_its_maker_algorithm_and_position(
        client: httpx.AsyncClient, data_dir: Path) -> None:
    # one report for PAdES and national-standard seals; the GB/T 38540 seal as the OFD carries it
    sealed = samples.sealed_ofd(data_dir)
    path = await _report_path(client, sealed)
    page = (await client.get(path)).text
    assert page.index(samples.VALID_SUMMARY) < page.index("第 1 个签名：电子印章")
    assert "OFD 版式文档（GB/T 33190）" in page and "国密 SM2（SM3 摘要）" in page
    assert samples.SEAL_NAME in page and samples.SEAL_MAKER in page
    assert "GB/T 38540-2020 电子签章" in page and "TOTAL_PASSED" in page
    assert samples.AGENCY_NAME in page and samples.AGENCY_USCC in page
    assert "第 1 页，距页面左边 130 毫米、上边 230 毫米，40×40 毫米" in page
    assert "PAdES" not in page.split("第 1 个签名")[1].split("关于此报告")[0]  # not a PDF's rows
    assert "不受签章保护的文件" not in page


async def test_seal_picture_is_served_as_a_fresh_png_that_names_nothing(
        client: httpx.AsyncClient, data_dir: Path) -> None:
    # SECURITY.md "Uploads and PDFs": the uploaded picture is never served as uploaded
    path = await _report_path(client, samples.sealed_ofd(data_dir))
    page = (await client.get(path)).text
    picture_url = f"{path}/seals/1.png"
    assert f'src="{picture_url}"' in page and f'alt="印章“{samples.SEAL_NAME}”的图像"' in page
    response = await client.get(picture_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'"
    assert response.headers["cache-control"] == "private, no-store"
    with Image.open(io.BytesIO(response.content), formats=["PNG"]) as image:
        assert image.size[0] <= 512 and image.size[1] <= 512
    unknown_report = "/verify/reports/" + "A" * 22 + "/seals/1.png"
    for missing in (f"{path}/seals/2.png", f"{path}/seals/0.png", unknown_report):
        assert (await client.get(missing)).status_code == 404, missing
    pdf_path = await _report_path(client, await samples.sealed_pdf(data_dir))
    assert (await client.get(f"{pdf_path}/seals/1.png")).status_code == 404  # a PAdES seal has none


async def test_ofd_files_no_seal_protects_are_listed(client: httpx.AsyncClient, data_dir: Path) -> None:
    files = entries(samples.sealed_ofd(data_dir))
    files["Doc_0/Attachs/附件.xml"] = b"<note>added after sealing</note>"
    page = (await client.get(await _report_path(client, rezip(files)))).text
    assert "有1个文件不受任何签章保护" in page
    assert "不受签章保护的文件（1 个）" in page and "Doc_0/Attachs/附件.xml" in page


async def test_report_id_is_128_random_bits_and_only_its_hash_is_stored(
        client: httpx.AsyncClient, data_dir: Path, database: Database) -> None:
    # v5.0.0-11.5.1, 14.2.1: an unguessable id, no personal data in the URL
    sealed = await samples.sealed_pdf(data_dir)
    ids = [REPORT_URL.fullmatch(await _report_path(client, sealed))[1] for _ in range(2)]  # type: ignore[index]
    assert ids[0] != ids[1]
    assert all(len(report_id) == 22 for report_id in ids)  # token_urlsafe(16): 128 bits
    async with database.sessions() as db:
        stored = (await db.execute(select(VerificationReportRecord.id_hash))).scalars().all()
    assert len(stored) == 2 and not set(ids) & set(stored)


async def test_the_upload_itself_is_not_kept(client: httpx.AsyncClient, data_dir: Path,
                                             database: Database) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    await _report_path(client, sealed)
    columns = {column.key for column in inspect(VerificationReportRecord).columns}
    # sealed_pdf: the portal's own report, sealed at its first download (the upload never is)
    assert columns == {"id_hash", "created_at", "expires_at", "document_sha256", "document_size", "report",
                       "sealed_pdf"}
    async with database.sessions() as db:
        record = (await db.execute(select(VerificationReportRecord))).scalar_one()
    assert record.document_sha256 == samples.sha256(sealed) and record.document_size == len(sealed)
    assert record.expires_at - record.created_at == timedelta(hours=24)


async def test_content_changed_after_sealing_reads_modified(client: httpx.AsyncClient,
                                                            data_dir: Path) -> None:
    tampered = samples.modified(await samples.sealed_pdf(data_dir))
    page = (await client.get(await _report_path(client, tampered))).text
    assert samples.MODIFIED_SUMMARY in page
    assert "DISALLOWED_MODIFICATION" in page and samples.VALID_SUMMARY not in page


async def test_a_change_after_a_valid_seal_is_the_first_thing_the_report_says(
        client: httpx.AsyncClient, data_dir: Path) -> None:
    # a sealed decision form-filled afterwards (another amount over the sealed one)
    # validates, since the seal permits form filling; the warning that the file shows more
    # than was sealed comes above everything: the verdict, the details and the downloads
    filled = await samples.form_filled(data_dir)
    path = await _report_path(client, filled)
    page = (await client.get(path)).text
    result = page[page.index("签章验证结果</h1>"):]
    warning = result.index(samples.CHANGED_AFTER_SIGNING_WARNING)
    alert = result.rindex('role="alert"', 0, warning)
    assert not re.search(r"<(p|dl|section|a)\b", result[:alert])  # nothing but the heading before it
    assert warning < result.index(samples.VALID_WITH_CHANGES_SUMMARY)
    assert warning < result.index("第 1 个签名") and warning < result.index("下载验证报告")
    assert result.count(samples.CHANGED_AFTER_SIGNING_WARNING) == 1
    report_pdf = (await client.get(path + "/pdf")).content
    pages = PdfReader(io.BytesIO(report_pdf)).pages
    text = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in pages))
    assert text.index(samples.CHANGED_AFTER_SIGNING_WARNING) < text.index(samples.VALID_WITH_CHANGES_SUMMARY)
    unchanged = (await client.get(await _report_path(client, await samples.sealed_pdf(data_dir)))).text
    assert samples.CHANGED_AFTER_SIGNING_WARNING not in unchanged and 'role="alert"' not in unchanged


async def test_an_unsigned_pdf_is_a_report_saying_so(client: httpx.AsyncClient) -> None:
    page = (await client.get(await _report_path(client, make_pdf(1)))).text
    assert "此文件不含电子签名或电子印章" in page and "第 1 个签名" not in page


async def test_htmx_upload_answers_the_report_block_and_pushes_its_url(client: httpx.AsyncClient,
                                                                       data_dir: Path) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    response = await _upload(client, sealed, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and samples.VALID_SUMMARY in response.text
    assert REPORT_URL.match(response.headers["hx-push-url"])
    assert "HX-Request" in response.headers["vary"]


async def test_a_pdf_built_to_be_slow_is_refused_from_its_outline_in_moments(
        client: httpx.AsyncClient) -> None:
    # SECURITY.md "Uploads and PDFs" (15.2.2): pyHanko would spend seconds on each (a last line
    # megabytes long, thousands of revisions); the report says why it was not verified
    for hostile in (long_last_line(make_pdf(1), 9_000_000), many_revisions(make_pdf(1), 20_000)):
        started = time.perf_counter()
        page = (await client.get(await _report_path(client, hostile))).text
        assert time.perf_counter() - started < 5.0
        assert "无法验证：文件结构异常（文件末尾格式不规范或修订次数过多）" in page


@pytest.mark.parametrize(("name", "data", "status", "message"), [
    ("named .pdf, but text", b"This is not a PDF, whatever its name says.\n", 415, "所选文件不是 PDF 文件"),
    ("PDF header, damaged body", samples.damaged(), 415, "所选文件不是 PDF 文件"),
    ("encrypted", samples.encrypted(), 415, "文件已加密"),
    ("empty", b"", 400, "所选文件是空文件"),
])
async def test_unusable_files_get_a_clear_chinese_error_on_the_form(
        client: httpx.AsyncClient, database: Database, name: str, data: bytes, status: int,
        message: str) -> None:
    # v5.0.0-5.2.2: content decides (magic bytes, then the real parse), never the name
    response = await _upload(client, data)
    assert response.status_code == status, name
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert 'name="file"' in response.text  # the form again, ready for another file
    assert await _stored_reports(database) == 0


async def test_no_file_chosen_is_asked_for(client: httpx.AsyncClient) -> None:
    token = await csrf_from(client, "/verify")
    response = await client.post("/verify", data={"csrf_token": token},
                                 files={"file": ("", b"", "application/octet-stream")})
    assert response.status_code == 400 and "请选择要验证的 PDF 文件" in response.text


async def test_htmx_error_is_a_swappable_fragment(client: httpx.AsyncClient) -> None:
    response = await _upload(client, b"not a pdf", headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx swaps only 2xx; the message is in the fragment
    assert "<html" not in response.text and "所选文件不是 PDF 文件" in response.text


async def test_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    # v5.0.0-5.1.1: 20 MB for verification; the whole request is bounded at 25 MB before that
    response = await _upload(client, b"%PDF-1.7\n" + bytes(20 * 1024 * 1024))
    assert response.status_code == 413 and "文件超过 20 MB" in response.text
    huge = await _upload(client, b"%PDF-1.7\n" + bytes(26 * 1024 * 1024))
    assert huge.status_code == 413 and "提交的内容过大" in huge.text


async def test_upload_without_csrf_token_is_refused(client: httpx.AsyncClient, data_dir: Path) -> None:
    # v5.0.0-3.5.1
    await client.get("/verify")
    response = await client.post("/verify", files=samples.upload(await samples.sealed_pdf(data_dir)))
    assert response.status_code == 403 and "页面已过期" in response.text


async def test_json_download_is_an_attachment_equal_to_the_api_answer(client: httpx.AsyncClient,
                                                                      data_dir: Path) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    path = await _report_path(client, sealed)
    download = await client.get(path + "/json")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%E7%AD%BE%E7%AB%A0%E9%AA%8C%E8%AF%81%E6%8A%A5%E5%91%8A" in disposition  # 签章验证报告
    api = await client.post("/api/v1/verifications", files=samples.upload(sealed))
    assert api.status_code == 200
    page_report, api_report = download.json(), api.json()
    for report in (page_report, api_report):
        report.pop("validated_at")  # two runs of the verifier, a moment apart
    assert page_report == api_report


async def test_pdf_report_is_sealed_by_the_portal_and_states_the_summary(
        client: httpx.AsyncClient, app: Starlette, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    path = await _report_path(client, sealed)
    download = await client.get(path + "/pdf")
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "private, no-store"
    report_pdf = download.content
    # the portal's own verifier accepts the portal's own seal (B-LT, timestamped)
    context = VerificationContext(trust=samples.trust(data_dir))
    report = await asyncio.to_thread(verify_pdf, report_pdf, context)
    assert report.indication is Indication.TOTAL_PASSED, report.summary
    (seal,) = report.signatures
    assert seal.kind is SignatureKind.SEAL and seal.timestamp is not None and seal.timestamp.valid
    assert seal.pades_level is not None and seal.pades_level.value == "B-LT"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report_pdf)).pages)
    flat = re.sub(r"[\s\x00]+", "", text)  # pypdf yields NULs between glyphs of fpdf2's CMap
    assert samples.VALID_SUMMARY in flat and samples.AGENCY_NAME in flat
    assert samples.sha256(sealed) in flat
    # sealed once (an HSM signature and a TSA request), the same copy served after
    calls: list[object] = []
    original = app.state.notary.seal

    async def counted(*args: object, **kwargs: object) -> bytes:
        calls.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(app.state.notary, "seal", counted)
    again = [await client.get(path + "/pdf") for _ in range(3)]
    assert calls == [] and all(copy.content == report_pdf for copy in again)


async def test_pdf_report_of_an_ofd_prints_the_seal_and_its_picture(
        client: httpx.AsyncClient, data_dir: Path) -> None:
    download = await client.get(await _report_path(client, samples.sealed_ofd(data_dir)) + "/pdf")
    assert download.status_code == 200
    reader = PdfReader(io.BytesIO(download.content))
    flat = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))
    for text in (samples.SEAL_NAME, samples.SEAL_MAKER, "国密SM2", "OFD版式文档", samples.AGENCY_USCC,
                 "TOTAL_PASSED", "第1页，距页面左边130毫米"):
        assert text in flat, text
    (picture,) = [image for page in reader.pages for image in page.images]  # the portal's own seal
    assert picture.image is not None and picture.image.width == picture.image.height  # is in its annotation


async def test_unknown_malformed_and_expired_report_ids_are_404(client: httpx.AsyncClient,
                                                                database: Database) -> None:
    async with transaction(database.sessions) as db:
        old = await verification_reports.store(db, {"document_sha256": "0" * 64, "size": 1},
                                               now=utcnow() - timedelta(hours=25))
    for report_id in (old.report_id, "A" * 22, "not-an-id", "x" * 200):
        for suffix in ("", "/json", "/pdf"):
            response = await client.get(f"/verify/reports/{report_id}{suffix}")
            assert response.status_code == 404, (report_id, suffix)
            assert "页面不存在" in response.text


async def test_rate_limit_answers_429_with_the_retry_time(database: Database, data_dir: Path) -> None:
    # SECURITY.md "Business logic" (v5.0.0-2.4.1): per-client limit on PDF verification
    app = create_app(make_settings(database.url, data_dir, VERIFY_UPLOADS_PER_MINUTE="2"))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as http:
            statuses = [(await _upload(http, b"")).status_code for _ in range(2)]
            refused = await _upload(http, b"")
    finally:
        await app.state.notary.aclose()
        await app.state.engine.dispose()
    assert statuses == [400, 400]  # refused uploads count too: the limit is on attempts
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 61
    assert "操作过于频繁" in refused.text and f"{retry_after} 秒" in refused.text
