"""Benchmark of payment callbacks and fiscal e-receipts (issue 6).

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
  and the ratio;
* fiscal e-receipts issued per second by the payment worker (number under the counter lock,
  PDF rendering with the QR code and embedded JSON, PAdES B-LT sealing with the development
  PKI's in-process TSA, storage, the ``receipt_issued`` event), one worker loop and four side
  by side, for RECEIPTS receipts each.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from portal.blobstore import FileBlobStore  # noqa: E402
from portal.database import create_engine, session_factory, transaction  # noqa: E402
from portal.legal_calendar import china_date  # noqa: E402
from portal.notary import Notary  # noqa: E402
from portal.schema import upgrade  # noqa: E402
from portal.services import fine_views, fines, payment_orders  # noqa: E402
from portal.settings import load_settings  # noqa: E402
from portal.workers import payments as payment_jobs  # noqa: E402
from tests.conftest import Database  # noqa: E402
from tests.portal.eservice.factories import world  # noqa: E402
from tests.portal.payments.factories import ZHANGSAN, notice_body, signed  # noqa: E402

CONCURRENCY = 8
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def ok(request):
    await request.body()
    return JSONResponse({"code": "SUCCESS"})
app = Starlette(routes=[Route("/x", ok, methods=["POST"])])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def run_clients(count: int, request: object) -> float:
    """``count`` calls of ``request(http, n)`` by CONCURRENCY clients; returns seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            status = await request(http, n)  # type: ignore[operator]
            if status != 200:
                raise RuntimeError(f"request {n} answered {status}")

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


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
                case_code=w.case_code, party_key=ZHANGSAN), actor="bench")
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
            claimed = await payment_jobs.run_due_jobs(deps, limit=1)
            if not claimed:
                return
            issued += claimed

    await asyncio.gather(*(loop() for _ in range(loops)))
    return issued, time.perf_counter() - started


async def main(count: int, receipt_count: int) -> None:
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin_url = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_payments_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    data_dir = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    engine = create_engine(url)
    processes: list[asyncio.subprocess.Process] = []
    notary: Notary | None = None
    try:
        await upgrade(engine)
        database = Database("postgresql", url, engine, session_factory(engine))
        orders = await make_orders(database, count)

        port, bare_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "PORT": str(port),
               "PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
        settings = load_settings(env)
        portal = await asyncio.create_subprocess_exec(sys.executable, "-m", "portal.cli", "serve",
                                                      cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
        bare = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BARE_APP + f"\nimport uvicorn; uvicorn.run(app, port={bare_port}, "
            "log_level='warning')", cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
        processes += [portal, bare]
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(f"{base}/healthz")
        await wait_healthy(f"http://127.0.0.1:{bare_port}/x")
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
            return (await http.post(f"http://127.0.0.1:{bare_port}/x", content=body,
                                    headers=signed(settings, body))).status_code

        await run_clients(min(50, count), bare_call)  # warm-up of the client side
        portal_seconds = await run_clients(count, callback)
        bare_seconds = await run_clients(count, bare_call)
        portal_rate, bare_rate = count / portal_seconds, count / bare_seconds
        print(f"verified callbacks:        {portal_rate:8.1f} /s  ({count} payments, {CONCURRENCY} "
              "clients, PostgreSQL, loopback HTTP)")
        print(f"bare Starlette endpoint:   {bare_rate:8.1f} /s  (same bodies, same clients)")
        print(f"ratio portal / bare:       {portal_rate / bare_rate:8.3f}")

        notary = Notary.from_settings(settings)
        await notary.start()
        deps = payment_jobs.deps_for(settings, database.sessions, notary, FileBlobStore(data_dir / "blobs"))
        await payment_jobs.run_due_jobs(deps, limit=1)  # warm-up: font, PKI, TSA
        for loops in (1, 4):
            issued, seconds = await receipts_per_second(deps, loops, receipt_count)
            print(f"receipts issued, {loops} loop{'s' if loops > 1 else ' '}: {issued / seconds:8.2f} /s  "
                  f"({issued} receipts: number, render, PAdES B-LT seal, store)")
    finally:
        if notary is not None:
            await notary.aclose()
        for process in processes:
            process.terminate()
            await process.wait()
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000,
                     int(sys.argv[2]) if len(sys.argv) > 2 else 100))
