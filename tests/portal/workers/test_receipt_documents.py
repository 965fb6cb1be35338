"""Fiscal e-receipts rendered and sealed in processes of their own (``RECEIPT_PROCESSES``): the
documents are the portal's valid seals, numbers stay unique and gap-free with a loop per
process, and a rendering process that dies or hangs loses no receipt and makes none twice
(PITFALLS.md "Gap-free numbers"; STYLE.md convention 9)."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.models.jobs import Job
from portal.models.receipts import FiscalReceipt, ReceiptDocument
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from portal.workers.receipt_documents import RENDER_TIME_LIMIT, ReceiptPool, Render
from tests.builders import fine_world
from tests.conftest import Database
from tests.portal.web.pages.payment_factories import notice_body, place_order, post_callback, signed
from tests.portal.workers.dying_render import always_dies, dies_once, hangs_once


async def _pay(database: Database, app: Starlette, client: httpx.AsyncClient, fines: int) -> None:
    first = await fine_world(database, number="P-0")
    worlds = [first] + [await fine_world(database, number=f"P-{n}", the_world=first.world)
                        for n in range(1, fines)]
    for fw in worlds:
        order = await place_order(app, database, fw)
        body = notice_body(order, fw.payment_code)
        assert (await post_callback(client, body, signed(app.state.settings, body))).status_code == 200


async def _issue(app: Starlette, database: Database, processes: int, job: Render | None = None,
                 time_limit: float = RENDER_TIME_LIMIT) -> int:
    """Drain the receipt jobs with a pool of ``processes`` and as many loops; jobs claimed."""
    settings: Settings = app.state.settings
    pool = ReceiptPool(settings, processes, **({"job": job} if job else {}), time_limit=time_limit)
    try:
        deps = payment_jobs.deps_for(settings, database.sessions, app.state.notary, app.state.blobs, pool)
        return sum(await asyncio.gather(*(payment_jobs.JOBS.drain(deps, limit=1) for _ in range(processes))))
    finally:
        await asyncio.to_thread(pool.close)


async def _documents(database: Database) -> list[tuple[str, dict[str, str]]]:
    async with database.sessions() as db:
        receipts = (await db.execute(select(FiscalReceipt).order_by(FiscalReceipt.number))).scalars().all()
        documents = (await db.execute(select(ReceiptDocument))).scalars().all()
    return [(row.number, {d.format: d.document_sha256 for d in documents if d.receipt_id == row.id})
            for row in receipts]


async def test_receipts_made_in_two_processes_are_numbered_without_gaps_and_sealed_validly(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await _pay(database, app, client, 3)
    assert await _issue(app, database, 2) == 3
    issued = await _documents(database)
    assert [number for number, _ in issued] == ["0000000001", "0000000002", "0000000003"]
    for _, documents in issued:
        assert set(documents) == {"pdf", "ofd"}
        for digest in documents.values():
            report = await app.state.notary.verify(await app.state.blobs.get(digest))
            assert report.passed, report.summary


async def test_a_rendering_process_that_dies_is_replaced_and_the_receipt_issued_once(
        database: Database, app: Starlette, client: httpx.AsyncClient, tmp_path: Path) -> None:
    await _pay(database, app, client, 1)
    assert await _issue(app, database, 1, functools.partial(dies_once, tmp_path / "died")) == 1
    assert (tmp_path / "died").exists()  # the first process was killed mid-receipt
    [(number, documents)] = await _documents(database)
    assert number == "0000000001" and set(documents) == {"pdf", "ofd"}


async def test_a_rendering_process_that_hangs_ends_itself_and_the_receipt_is_issued_once(
        database: Database, app: Starlette, client: httpx.AsyncClient, tmp_path: Path) -> None:
    """Without the time limit the first process sleeps for 15 minutes before it renders."""
    await _pay(database, app, client, 1)
    started = asyncio.get_running_loop().time()
    assert await _issue(app, database, 1, functools.partial(hangs_once, tmp_path / "hung"), time_limit=8) == 1
    assert (tmp_path / "hung").exists()
    [(number, documents)] = await _documents(database)
    assert number == "0000000001" and set(documents) == {"pdf", "ofd"}
    assert asyncio.get_running_loop().time() - started < 300


async def test_a_receipt_whose_process_dies_twice_waits_with_its_number_and_is_issued_later(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:
    await _pay(database, app, client, 1)
    assert await _issue(app, database, 1, always_dies) == 1
    assert await _documents(database) == [("0000000001", {})]  # numbered, not lost
    async with database.sessions() as db, db.begin():
        job = (await db.execute(select(Job).where(Job.kind == payment_jobs.RECEIPT_JOB))).scalar_one()
        assert not job.done and job.last_error == "RenderProcessLost"
        job.next_attempt_at = job.created_at  # the back-off is over
    assert await _issue(app, database, 2) == 1
    [(number, documents)] = await _documents(database)
    assert number == "0000000001" and set(documents) == {"pdf", "ofd"}
    async with database.sessions() as db:
        assert (await db.execute(select(func.count()).select_from(FiscalReceipt))).scalar_one() == 1
