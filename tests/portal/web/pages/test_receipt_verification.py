"""The public receipt verification page and the reconciliation command.

SECURITY.md 2.4.1: rate limited per client; "not found" and "mismatch" give identical answers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.models.receipts import FiscalReceipt
from portal.services import rate_limits
from portal.settings import Settings
from portal.web.pages import receipts as receipt_pages
from portal.workers import payments as payment_jobs
from tests.builders import fine_world
from tests.conftest import Database, run_cli
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)


async def _receipt(database: Database, app: Starlette, client: httpx.AsyncClient,
                   settings: Settings) -> FiscalReceipt:
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    await post_callback(client, body, signed(settings, body))
    await payment_jobs.JOBS.drain(payment_deps(app, database, notary=StubSeal()))
    async with database.sessions() as db:
        return (await db.execute(select(FiscalReceipt))).scalar_one()


def _main(page: str) -> str:
    start = page.index('<main id="main"')
    return page[start:page.index("</main>")]


async def test_unknown_and_mismatched_receipts_get_the_same_answer(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings) -> None:
    # SECURITY.md 2.4.1: identical answers for "not found" and "mismatch"
    receipt = await _receipt(database, app, client, settings)
    wrong_check = await client.get("/receipts/verify", params={
        "code": receipt.code, "number": receipt.number, "check": "ZZZZZZ"})
    unknown = await client.get("/receipts/verify", params={
        "code": receipt.code, "number": "9999999999", "check": "ZZZZZZ"})
    malformed = await client.get("/receipts/verify", params={"code": "x", "number": "y", "check": "z"})
    assert wrong_check.status_code == unknown.status_code == malformed.status_code == 404
    assert _main(wrong_check.text).replace(receipt.number, "9999999999") == _main(unknown.text)
    assert "未找到与所填信息一致的票据" in unknown.text
    form = await client.get("/receipts/verify")
    assert form.status_code == 200 and "票据代码" in form.text


async def test_receipt_verification_is_rate_limited_per_client(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # SECURITY.md 2.4.1: anti-automation on receipt verification
    monkeypatch.setattr(receipt_pages, "RECEIPT_VERIFICATIONS",
                        rate_limits.Limit("receipt_verify_test", requests=3, window_seconds=60))
    params = {"code": "35010001", "number": "0000000001", "check": "ABCDEF"}
    answers = [await client.get("/receipts/verify", params=params) for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert "retry-after" in answers[-1].headers


async def test_reconcile_command_says_when_the_platform_cannot_be_reached(
        database: Database, app: Starlette, data_dir: Path) -> None:
    # the sandbox platform lives in the web process; without a server its statement is unreachable
    result = await run_cli("payments", "reconcile", "--date", "2026-11-20", database_url=database.url,
                           data_dir=data_dir)
    assert result.returncode == 1
    assert "支付平台暂时无法访问" in result.stderr
