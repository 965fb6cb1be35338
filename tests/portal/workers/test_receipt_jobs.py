"""Fiscal e-receipts issued by workers (PITFALLS.md "Gap-free numbers"): exactly once after a
crash, numbers unique and gap-free under concurrency."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from sqlalchemy import exists, func, select, text, update
from starlette.applications import Starlette

from portal.models.jobs import Job
from portal.models.receipts import FiscalReceipt, ReceiptDocument
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from tests.builders import fine_world
from tests.conftest import ROOT_DIR, Database, run_cli
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)

FINES = 50


async def _receipts(database: Database) -> list[tuple[str, str, bool]]:
    async with database.sessions() as db:
        sealed = exists().where(ReceiptDocument.receipt_id == FiscalReceipt.id)
        rows = (await db.execute(select(FiscalReceipt.code, FiscalReceipt.number, sealed)
                                 .order_by(FiscalReceipt.number))).all()
    return [(code, number, bool(document)) for code, number, document in rows]


async def _paid(database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings) -> None:
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(client, body, signed(settings, body))).status_code == 200


async def test_50_fines_paid_at_the_same_moment_get_unique_gap_free_receipt_numbers(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings) -> None:
    # receipt numbers stay unique and gap-free with 50 fines paid at the same moment;
    # numbers come from a counter row locked with SELECT … FOR UPDATE (PITFALLS.md)
    first = await fine_world(database, number="N-0")
    worlds = [first] + [await fine_world(database, number=f"N-{n}", the_world=first.world)
                        for n in range(1, FINES)]
    orders = [await place_order(app, database, fw) for fw in worlds]
    bodies = [notice_body(order, fw.payment_code) for order, fw in zip(orders, worlds, strict=True)]
    answers = await asyncio.gather(*(post_callback(client, body, signed(settings, body)) for body in bodies))
    assert {a.status_code for a in answers} == {200}
    deps = payment_deps(app, database, notary=StubSeal())
    workers = 5 if database.backend == "postgresql" else 2
    await asyncio.gather(*(payment_jobs.JOBS.drain(deps) for _ in range(workers)))
    receipts = await _receipts(database)
    assert [int(number) for _, number, _ in receipts] == list(range(1, FINES + 1))
    assert len({code for code, _, _ in receipts}) == 1 and all(sealed for _, _, sealed in receipts)


async def test_receipt_is_issued_once_by_a_new_process_after_the_server_died(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings,
        data_dir: Path) -> None:
    # killed between recording the payment and issuing the receipt: after restart the
    # receipt is issued exactly once (the job was committed with the payment)
    await _paid(database, app, client, settings)
    assert await _receipts(database) == []  # the server "died" here: no worker ran
    for _ in range(2):  # a fresh process, twice
        done = await run_cli("worker", "--once", database_url=database.url, data_dir=data_dir)
        assert done.returncode == 0, done.stderr
    receipts = await _receipts(database)
    assert [(number, sealed) for _, number, sealed in receipts] == [("0000000001", True)]


async def test_a_worker_killed_while_sealing_leaves_a_number_the_next_worker_completes(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings,
        data_dir: Path) -> None:
    # STYLE.md convention 9: jobs take ids, reload, and are safe to run twice; no number is lost
    await _paid(database, app, client, settings)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.portal.workers.crash_worker", database.url, str(data_dir),
        cwd=ROOT_DIR, stderr=asyncio.subprocess.PIPE)
    await asyncio.wait_for(process.wait(), 120)
    assert process.returncode == -9  # SIGKILL, mid-seal
    assert [(number, sealed) for _, number, sealed in await _receipts(database)] == [("0000000001", False)]
    async with database.sessions() as db, db.begin():  # the dead worker's lease runs out
        await db.execute(update(Job).where(Job.kind == payment_jobs.RECEIPT_JOB)
                         .values(next_attempt_at=text("created_at")))
    assert await payment_jobs.JOBS.drain(payment_deps(app, database)) == 1
    assert [(number, sealed) for _, number, sealed in await _receipts(database)] == [("0000000001", True)]
    async with database.sessions() as db:
        assert (await db.execute(select(func.count()).select_from(FiscalReceipt))).scalar_one() == 1
