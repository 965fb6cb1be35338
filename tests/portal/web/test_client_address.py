"""The address a rate limit counts comes from the socket, or from ``X-Forwarded-For`` only
behind as many proxies as the operator trusts (SECURITY.md "Business logic", v5.0.0-15.3.4): a
client that forges the header cannot spread its lookups over invented addresses."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.services import rate_limits
from portal.web import client as web_client
from portal.web.pages import cases as case_pages
from tests.conftest import Database, make_settings


@pytest.mark.parametrize(("hops", "expected"), [("0", [200, 200, 429, 429]), ("1", [200, 200, 200, 200])])
async def test_a_forged_forwarded_for_counts_only_behind_a_trusted_proxy(
        database: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch, hops: str,
        expected: list[int]) -> None:
    monkeypatch.setattr(case_pages, "CASE_LOOKUPS", rate_limits.Limit("case_lookup", 2, 10**6))
    app = create_app(make_settings(database.url, data_dir, TRUSTED_PROXY_HOPS=hops))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as browser:
            statuses = [(await browser.get("/c", params={"code": "ABCD-EFGH-JK"},
                                           headers={"x-forwarded-for": f"203.0.113.{n}"})).status_code
                        for n in range(4)]
    finally:
        await app.state.notary.aclose()
        await app.state.engine.dispose()
    assert [429 if s == 429 else 200 for s in statuses] == expected


async def test_the_operator_is_told_once_when_a_proxy_forwards_but_none_is_trusted(
        client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    # behind nginx with TRUSTED_PROXY_HOPS=0 every citizen would share one rate limit: the log
    # says so once per process, not once per request
    web_client._warn_proxy_not_trusted.cache_clear()
    with caplog.at_level(logging.WARNING, logger="portal.limits"):
        for n in range(3):
            await client.get("/c", params={"code": "ABCD-EFGH-JK"},
                             headers={"x-forwarded-for": f"203.0.113.{n}"})
    warnings = [record for record in caplog.records if "TRUSTED_PROXY_HOPS" in record.getMessage()]
    assert len(warnings) == 1
