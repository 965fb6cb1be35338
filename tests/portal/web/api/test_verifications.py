"""The public verification API: POST /api/v1/verifications answers the report as JSON, problem
details for bad input, no token, rate limited, nothing stored; every answer is checked against
the OpenAPI document by the ``api`` client (tests/portal/web/api/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from portal.models import VerificationReportRecord
from portal.services import rate_limits
from portal.settings import Settings
from tests.conftest import Database, make_settings
from tests.portal import verify_samples as samples
from tests.portal.web.api.conftest import PUBLIC_URL

URL = "/api/v1/verifications"


@pytest.fixture
def settings(database: Database, data_dir: Path) -> Settings:
    # a small limit, so the rate-limit test needs three requests, not twenty-one
    return make_settings(database.url, data_dir, PUBLIC_URL=PUBLIC_URL, VERIFY_UPLOADS_PER_MINUTE="5")


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_sealed_pdf_is_total_passed_with_file_hash_and_signer(api: httpx.AsyncClient,
                                                                    data_dir: Path) -> None:
    sealed = await samples.sealed_pdf(data_dir)
    response = await api.post(URL, files=samples.upload(sealed))  # no token, no CSRF
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    report = response.json()
    assert report["indication"] == "TOTAL_PASSED" and report["summary"] == samples.VALID_SUMMARY
    assert report["document_sha256"] == samples.sha256(sealed) and report["size"] == len(sealed)
    (signature,) = report["signatures"]
    assert signature["kind"] == "SEAL" and signature["organisation"] == samples.AGENCY_NAME
    assert signature["organisation_id"] == samples.AGENCY_USCC
    assert signature["timestamp"]["valid"] is True
    assert [c["revocation"] for c in signature["certificate_chain"]][-1] == "TRUST_ANCHOR"


async def test_sealed_ofd_reports_the_sm2_seal(api: httpx.AsyncClient, data_dir: Path) -> None:
    # the same report for a GB/T 38540 seal in an OFD (validated against the schema)
    sealed = samples.sealed_ofd(data_dir)
    response = await api.post(URL, files=samples.upload(sealed, "receipt.ofd", "application/ofd"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["indication"] == "TOTAL_PASSED" and report["document_format"] == "OFD"
    assert report["unprotected_files"] == []
    (signature,) = report["signatures"]
    assert signature["algorithm_family"] == "SM2" and signature["kind"] == "SEAL"
    assert (signature["organisation"], signature["organisation_id"]) == (samples.AGENCY_NAME,
                                                                        samples.AGENCY_USCC)
    seal = signature["seal"]
    assert (seal["name"], seal["maker"], seal["standard"]) == (samples.SEAL_NAME, samples.SEAL_MAKER,
                                                               "GB/T 38540-2020")
    assert seal["page"] == 1 and seal["box"] == [130.0, 230.0, 40.0, 40.0]


async def test_pdf_with_a_gbt_38540_seal_reports_it_like_an_ofd(api: httpx.AsyncClient,
                                                                 data_dir: Path) -> None:
    response = await api.post(URL, files=samples.upload(samples.seal_in_pdf(data_dir)))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["indication"] == "TOTAL_PASSED" and report["document_format"] == "PDF"
    (signature,) = report["signatures"]
    assert signature["algorithm_family"] == "SM2" and signature["coverage"] == "ENTIRE_FILE"
    assert signature["seal"]["name"] == samples.SEAL_NAME and signature["seal"]["page"] == 1


async def test_modified_after_sealing_is_total_failed(api: httpx.AsyncClient, data_dir: Path) -> None:
    tampered = samples.modified(await samples.sealed_pdf(data_dir))
    report = (await api.post(URL, files=samples.upload(tampered))).json()
    assert report["indication"] == "TOTAL_FAILED"
    assert report["sub_indication"] == "DISALLOWED_MODIFICATION"
    assert report["summary"].startswith(samples.MODIFIED_SUMMARY)


async def test_missing_and_empty_files_are_400(api: httpx.AsyncClient) -> None:
    _problem(await api.post(URL, files={"document": ("a.pdf", b"%PDF-1.7", "application/pdf")}),
             400, "file_missing")
    _problem(await api.post(URL, data={"file": "not a file part"}), 400, "file_missing")
    _problem(await api.post(URL, files=samples.upload(b"")), 400, "file_empty")


@pytest.mark.parametrize(("data", "code"), [
    (b"GIF89a, named decision.pdf", "not_pdf"),
    (samples.damaged(), "not_pdf"),
    (b"PK\x03\x04 a ZIP header, then nothing a ZIP reader can use", "not_pdf"),
    (samples.encrypted(), "pdf_encrypted"),
])
async def test_files_that_are_no_readable_pdf_are_415(api: httpx.AsyncClient, data: bytes,
                                                      code: str) -> None:
    # v5.0.0-5.2.2: magic bytes and the real parse decide, not the name or the media type
    _problem(await api.post(URL, files=samples.upload(data, "decision.pdf")), 415, code)


async def test_over_the_limit_is_413(api: httpx.AsyncClient) -> None:
    response = await api.post(URL, files=samples.upload(b"%PDF-1.7\n" + bytes(20 * 1024 * 1024)))
    _problem(response, 413, "payload_too_large")


async def test_rate_limit_is_429_with_retry_after(api: httpx.AsyncClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # v5.0.0-2.4.1: limited per client, bad requests included. The limiter's clock is held
    # mid-window so a slow run cannot cross into the next window and get a fresh allowance.
    frozen = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    monkeypatch.setattr(rate_limits, "utcnow", lambda: frozen)
    for _ in range(5):
        _problem(await api.post(URL, files=samples.upload(b"")), 400, "file_empty")
    response = await api.post(URL, files=samples.upload(b""))
    _problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 61


async def test_nothing_is_stored(api: httpx.AsyncClient, data_dir: Path, database: Database) -> None:
    await api.post(URL, files=samples.upload(await samples.sealed_pdf(data_dir)))
    async with database.sessions() as db:
        count = (await db.execute(select(func.count()).select_from(VerificationReportRecord))).scalar_one()
    assert count == 0


async def test_declared_public_with_a_multipart_body_and_the_report_schema(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/v1/openapi.json")).json()
    operation = document["paths"][URL]["post"]
    assert operation["security"] == []
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"200", "400", "413", "415", "429", "default"} <= set(operation["responses"])
    report = document["components"]["schemas"]["VerificationReport"]
    assert report["additionalProperties"] is False and "signatures" in report["required"]
