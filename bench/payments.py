"""Benchmark of payment callbacks and fiscal e-receipts.

Run with ``.venv/bin/python bench/payments.py [CALLBACKS] [RECEIPTS]`` (defaults 2,000 and
100). It creates its own PostgreSQL database (``TEST_DATABASE_URL`` or
postgresql://postgres@127.0.0.1:5432/test as the admin connection), migrates it, creates
CALLBACKS fines with one payment order each, starts a real ``portal serve`` process and prints:

* verified callbacks per second through ``POST /api/v1/payments/callbacks/sandbox``: each a
  distinct successful payment signed with the sandbox platform's Ed25519 key, over loopback
  HTTP by 8 concurrent clients; the portal verifies the signature and the timestamp window,
  stores the nonce and the notification, locks the fine, checks the amount due on the payment
  date, applies the transition, appends the payment and queues the receipt job and the
  party's notification, in one transaction;
* a bare Starlette endpoint served the same way in the same run (same body, same clients),
  and the ratio; for each side, the CPU a request cost by whom and the rate it would allow
  at best on this machine (as ``bench/delivery.py``);
* fiscal e-receipts issued per second by the payment worker (number under the counter lock,
  PDF rendering with the QR code and embedded JSON, PAdES B-LT sealing with the development
  PKI's in-process TSA, and, as ``RECEIPT_FORMATS`` says (by default in development), the OFD
  sealed per GB/T 38540; storage, the ``receipt_issued`` event), RECEIPTS receipts for each
  figure: made in the worker's own process by one loop (``RECEIPT_PROCESSES=0``), then in a
  pool of one rendering process and of two (``workers.receipt_documents``, one loop per
  process), and the ratio of two processes to one; with the font's common cut made first, as a
  long-running worker has it (``payments.receipt_pdf.prepare_common_glyphs``). The receipts
  need 3 × RECEIPTS + 8 payments (with the warm-ups): CALLBACKS must be at least that.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import httpx  # noqa: E402

from bench.harness import (  # noqa: E402
    CONCURRENCY,
    cpu_use,
    portal_and_bare,
    run_clients,
    scratch_database,
    sized,
)
from payments.receipt_pdf import prepare_common_glyphs  # noqa: E402
from portal.blobstore import open_blob_store  # noqa: E402
from portal.database import create_engine, session_factory, transaction  # noqa: E402
from portal.legal_calendar import china_date  # noqa: E402
from portal.notary import Notary  # noqa: E402
from portal.services import fine_views, fines, payment_orders  # noqa: E402
from portal.settings import Settings, load_settings  # noqa: E402
from portal.workers import payments as payment_jobs  # noqa: E402
from portal.workers.receipt_documents import ReceiptPool, font_cache_dir  # noqa: E402
from tests.builders import case_world as world  # noqa: E402
from tests.conftest import Database  # noqa: E402
from tests.identities import ZHANGSAN  # noqa: E402
from tests.portal.web.pages.payment_factories import notice_body, signed  # noqa: E402

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def ok(request):
    await request.body()
    return JSONResponse({"code": "SUCCESS"})
app = Starlette(routes=[Route("/x", ok, methods=["POST"])])
"""


async def make_orders(database: Database, count: int) -> list[tuple[str, object]]:
    """``count`` fines of 张三 served yesterday, each with an open order; (payment code, order)."""
    w = await world(database)
    made = []
    now = datetime.now(UTC)
    for n in range(count):
        async with transaction(database.sessions) as db:
            fine, _ = await fines.create_fine(db, w.agency_id, fines.NewFine(
                decision_number=f"BENCH-{n}", amount_fen=50_000 + n, collecting_account="bench",
                surcharge_applies=True, served_on=china_date(now) - timedelta(days=1),
                case_code=w.case_code, party_key=ZHANGSAN.id_number), actor="bench")
            view = await fine_views.fine_view(db, fine, china_date(now))
            order = await payment_orders.open_order(db, fine.id, view.quote, platform="sandbox",
                                                    actor="bench", now=now)
            made.append((fine.payment_code, order))
    return made


async def receipts_per_second(deps: payment_jobs.PaymentDeps, loops: int, limit: int) -> tuple[int, float]:
    """Run ``loops`` worker loops until ``limit`` receipts were issued; (issued, seconds)."""
    issued = 0
    started = time.perf_counter()

    async def loop() -> None:
        nonlocal issued
        while issued < limit:
            claimed = await payment_jobs.JOBS.run_due(deps, limit=1)
            if not claimed:
                return
            issued += claimed

    await asyncio.gather(*(loop() for _ in range(loops)))
    return issued, time.perf_counter() - started


async def main(count: int, receipt_count: int) -> None:
    async with scratch_database("bench_payments") as url:
        engine = create_engine(url)
        try:
            await measure(Database("postgresql", url, engine, session_factory(engine)), count, receipt_count)
        finally:
            await engine.dispose()


async def measure(database: Database, count: int, receipt_count: int) -> None:
    """Make the fines and orders, start the servers and print the figures."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    orders = await make_orders(database, count)
    async with portal_and_bare(database.url, data_dir, BARE_APP) as servers:
        settings = load_settings(servers.env)
        base = servers.portal_url
        bodies = [notice_body(order, code) for code, order in orders]  # type: ignore[arg-type]

        async def callback(http: httpx.AsyncClient, n: int) -> int:
            body = bodies[n]
            response = await http.post(f"{base}/api/v1/payments/callbacks/sandbox", content=body,
                                       headers=signed(settings, body))
            if response.json() != {"code": "SUCCESS"}:
                raise RuntimeError(f"callback {n} not applied: {response.text}")
            return response.status_code

        async def bare_call(http: httpx.AsyncClient, n: int) -> int:
            body = bodies[n]
            return (await http.post(servers.bare_url, content=body,
                                    headers=signed(settings, body))).status_code

        await run_clients(min(50, count), bare_call, 200)  # warm-up of the client side
        cpu_before = await cpu_use(servers.portal.pid, database.url)
        portal_seconds = await run_clients(count, callback, 200)
        portal_cpu = await cpu_use(servers.portal.pid, database.url) - cpu_before
        cpu_before = await cpu_use(servers.bare_pid)
        bare_seconds = await run_clients(count, bare_call, 200)
        bare_cpu = await cpu_use(servers.bare_pid) - cpu_before
        portal_rate, bare_rate = count / portal_seconds, count / bare_seconds
        print(f"verified callbacks:        {portal_rate:8.1f} /s  ({count} payments, {CONCURRENCY} "
              "clients, PostgreSQL, loopback HTTP)")
        print(f"bare Starlette endpoint:   {bare_rate:8.1f} /s  (same bodies, same clients)")
        print(f"ratio portal / bare:       {portal_rate / bare_rate:8.3f}")
        print(portal_cpu.report("callback", count))
        print(bare_cpu.report("bare request", count))
        await print_receipt_rates(settings, database, data_dir, receipt_count)


FORMAT_SEALS = {"pdf": "PDF (PAdES B-LT)", "ofd": "OFD (GB/T 38540)"}


async def print_receipt_rates(settings: Settings, database: Database, data_dir: Path, receipt_count: int
                              ) -> None:
    """Receipts issued per second made in the worker's own process (one loop), then in a pool
    of one rendering process and of two (one loop each), and the ratio of two to one."""
    notary = Notary.from_settings(settings)
    blobs = open_blob_store(settings.blobs, database.engine)
    try:
        await notary.start()
        deps = payment_jobs.deps_for(settings, database.sessions, notary, blobs)
        await payment_jobs.JOBS.run_due(deps, limit=1)  # warm-up: font, PKI, TSA
        # as a long-running worker has it: the font's common cut, which the pools' processes read
        await asyncio.to_thread(prepare_common_glyphs, deps.font_path, font_cache_dir(settings))
        what = " and ".join(FORMAT_SEALS[name] for name in deps.formats)
        print(f"receipts: number, render, seal {what}, store; {receipt_count} per figure")
        rates = {0: await receipt_rate(deps, 1, receipt_count, "in the worker's process")}
        for processes in (1, 2):
            pool = ReceiptPool(settings, processes)
            try:
                pooled = payment_jobs.deps_for(settings, database.sessions, notary, blobs, pool)
                await receipts_per_second(pooled, processes, 2 * processes)  # warm-up: start, PKI, font
                label = f"in {processes} process{'es' if processes > 1 else ''}"
                rates[processes] = await receipt_rate(pooled, processes, receipt_count, label)
            finally:
                await asyncio.to_thread(pool.close)
        print(f"ratio 2 processes / 1 process:  {rates[2] / rates[1]:8.2f}")
        print(f"ratio 2 processes / in-process: {rates[2] / rates[0]:8.2f}  ({os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f})")
        print(f"the machine's own ratio:        {await asyncio.to_thread(two_process_speedup):8.2f}  "
              "(the same pure-Python loop in 2 processes at once / in 1: the most any work gets)")
    finally:
        await notary.aclose()
        await blobs.aclose()


def _spin(_: int) -> float:
    """Seconds of a fixed pure-Python loop (CPU only, no memory traffic to speak of)."""
    started = time.perf_counter()
    total = 0
    for n in range(sized(20_000_000, 200_000)):
        total += n
    return time.perf_counter() - started


def two_process_speedup() -> float:
    """How much more two processes get done than one on this machine: the ceiling of the
    receipts' 2-process ratio (virtual CPUs may share a core, or be lent elsewhere)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_spin, range(2)))  # start both processes first
        alone = statistics.median(pool.submit(_spin, 0).result() for _ in range(3))
        both = statistics.median(max(pool.map(_spin, range(2))) for _ in range(3))
    return 2 * alone / both


async def receipt_rate(deps: payment_jobs.PaymentDeps, loops: int, limit: int, label: str) -> float:
    """Print and return the receipts per second of ``loops`` worker loops on ``deps``."""
    issued, seconds = await receipts_per_second(deps, loops, limit)
    if issued < limit:
        raise RuntimeError(f"only {issued} payments were left to issue receipts for: pass more CALLBACKS")
    rate = issued / seconds
    print(f"receipts issued {label + ':':24} {rate:8.2f} /s  ({1000 / rate:6.0f} ms a receipt)")
    return rate


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else sized(2_000, 16),
                     int(sys.argv[2]) if len(sys.argv) > 2 else sized(100, 2)))
