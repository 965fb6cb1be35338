"""Benchmark of the portal on several server processes: a citizen's page mix, deliveries, and a
public page's latency while deliveries run.

Run with ``.venv/bin/python bench/cluster.py [--cases N] [--requests R] [--deliveries D]
[--samples S]`` (defaults 400 cases, 900 page requests and 300 deliveries per server, 200
latency samples per page and state; ``BENCH_SMOKE=1`` makes them tiny, and runs 1 and 2
server processes only). It creates its own PostgreSQL database (``TEST_DATABASE_URL`` or
postgresql://postgres@127.0.0.1:5432/test as the admin connection), migrates it and seeds
``bench.dataset`` into it: the demo (``portal.demo``: the demo agencies and their API clients,
张三's cases and fines, the company of 李四 with a served decision) and, through the same
services an agency's API calls use, N more cases with their documents served into the parties'
mailboxes and N published decisions. Then it prints:

* the page mix per second with ``portal serve --workers`` 1, 2 and 4: 8 concurrent clients
  whose requests go alternately with the session of ``zhangsan`` and of ``lisi`` (each logged
  in through the development identity provider, as the demo does), each session asking in
  turn for its mailbox, 我的待办, its notices, one of its cases, one of its fines, and the
  public home page, the verification page, a case's QR link and publicity searches with a
  query; each request from its own client address (``X-Forwarded-For`` through
  ``TRUSTED_PROXY_HOPS=1``, as behind the proxy), so the per-client limits on public lookups
  are paid as real traffic pays them, and on a new connection, so the requests spread over
  the server processes (a kept-alive connection stays with the process that accepted it);
  with the ratios 2/1 and 4/1;
* deliveries per second through ``POST /api/v1/cases/{code}/deliveries`` (a sealed 1-page
  PDF, as ``bench/delivery.py``) with 1, 2 and 4 server processes, and the ratios;
* the p50 and p95 of the home page and of a publicity search (one request at a time) on the
  2-process server otherwise idle, then again while 8 clients deliver at full speed, with the
  deliveries' rate meanwhile and the ratio busy / idle.

The notices page shows what the seeding queued; no background worker runs, so no receipts are
sealed and no notifications sent during the runs. The benchmark's clients share the machine
with the servers: on 2 cores, more server processes contend with them and with PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from bench.dataset import SEARCH_WORDS, SeededWorld, seed_world  # noqa: E402
from bench.harness import (  # noqa: E402
    CONCURRENCY,
    SMOKE,
    Call,
    Portal,
    agency_token,
    delivery_call,
    run_clients,
    run_clients_until,
    scratch_database,
    serve_portal,
    sized,
)
from portal.cases import codes as case_codes  # noqa: E402
from portal.demo import DEMO_AGENCIES  # noqa: E402
from portal.settings import load_settings  # noqa: E402
from tests.builders import sealed_pdf  # noqa: E402
from tests.portal.web.login_flow import log_in  # noqa: E402

PROCESS_COUNTS = (1, 2) if SMOKE else (1, 2, 4)  # a 4-process start alone is a minute when busy
LATENCY_PROCESSES = 2
LOGINS = ("zhangsan", "lisi")
SERVER_SETTINGS = {"TRUSTED_PROXY_HOPS": "1"}
FIRST_LINK = {"case": re.compile(r'href="(/cases/[0-9A-Za-z-]+)"'),
              "fine": re.compile(r'href="(/fines/[0-9A-Za-z-]+)"')}


def client_address(n: int) -> dict[str, str]:
    """A distinct client address per request (``X-Forwarded-For``), as many citizens are."""
    return {"x-forwarded-for": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}


async def party_pages(base: str, login: str, address: int) -> tuple[str, list[str]]:
    """Log ``login`` in as the demo does (from client address ``address``); its session cookie
    and its own pages (mailbox, its first case, 我的待办, notices, its first fine), the links
    read off its lists."""
    async with httpx.AsyncClient(base_url=base, headers=client_address(address), timeout=60) as http:
        await log_in(http, login)
        pages = ["/mailbox", "/todo", "/notices"]
        for kind, listing in (("case", "/cases"), ("fine", "/fines")):
            found = FIRST_LINK[kind].search((await http.get(listing)).text)
            if found is None:
                raise SystemExit(f"{login}: no {kind} on {listing}")
            pages.append(found.group(1))
        return f"portal_session={http.cookies['portal_session']}", pages


async def page_mix(portal: Portal, world: SeededWorld) -> Call:
    """The citizen mix as one ``Call``: request n is the n-th page of client n's cycle."""
    settings = load_settings(portal.env)
    qr = case_codes.case_url("", settings.key_text("case_qr"), world.public_case)
    public = ["/", "/verify", qr] + [f"/publicity?q={word}" for word in SEARCH_WORDS[:2]]
    sessions = [await party_pages(portal.url, login, 60_000 + n) for n, login in enumerate(LOGINS)]
    cycles = [(cookie, pages + public) for cookie, pages in sessions]

    async def call(http: httpx.AsyncClient, n: int) -> int:
        cookie, pages = cycles[n % len(cycles)]
        path = pages[(n // len(cycles)) % len(pages)]
        response = await http.get(portal.url + path, headers={"cookie": cookie, **client_address(n)})
        return response.status_code

    return call


async def deliveries_call(portal: Portal, world: SeededWorld, document: bytes) -> Call:
    token = await agency_token(portal.url, world.client_id, world.client_secret)
    return delivery_call(portal.url, token, world.delivery_case, world.delivery_party, document)


async def rates(portal: Portal, processes: int, world: SeededWorld, document: bytes, requests: int,
                deliveries: int) -> tuple[float, float, Call]:
    """Pages and deliveries per second on ``portal`` (of ``processes`` server processes), and
    its delivery ``Call``."""
    mix = await page_mix(portal, world)
    # warm-ups: every process, its pools and caches; then each one's seal checkers
    await run_clients(sized(60, 9), mix, 200, fresh_connections=True)
    pages = requests / await run_clients(requests, mix, 200, fresh_connections=True)
    deliver = await deliveries_call(portal, world, document)
    await run_clients(sized(15, 1) * processes, deliver, 201, fresh_connections=True)
    served = deliveries / await run_clients(deliveries, deliver, 201, fresh_connections=True)
    return pages, served, deliver


async def latencies(base: str, paths: list[str], count: int) -> list[float]:
    """Seconds of ``count`` requests, one at a time, cycling through ``paths``."""
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for n in range(count):
            started = time.perf_counter()
            response = await http.get(paths[n % len(paths)], headers=client_address(50_000 + n))
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{paths[n % len(paths)]} answered {response.status_code}")
    return times


def p50_p95(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times) * 1000, cuts[18] * 1000


async def latency_under_deliveries(portal: Portal, deliver: Call, count: int) -> list[str]:
    """p50/p95 of two public pages idle, then while deliveries run at full speed: lines to print."""
    pages = {"home page /": ["/"], "publicity search": [f"/publicity?q={w}" for w in SEARCH_WORDS]}
    idle = {name: p50_p95(await latencies(portal.url, paths, count)) for name, paths in pages.items()}
    stop = asyncio.Event()
    started = time.perf_counter()
    delivering = asyncio.create_task(run_clients_until(stop, deliver, 201, fresh_connections=True))
    await asyncio.sleep(sized(3, 1))  # let the deliveries reach their pace
    busy = {name: p50_p95(await latencies(portal.url, paths, count)) for name, paths in pages.items()}
    stop.set()
    rate = await delivering / (time.perf_counter() - started)
    lines = [f"\nPublic pages with {LATENCY_PROCESSES} server processes, one request at a time "
             f"({count} each); busy = while {CONCURRENCY} clients deliver ({rate:.1f} deliveries/s)",
             f"  {'page':<18} {'idle p50':>9} {'idle p95':>9} {'busy p50':>9} {'busy p95':>9} "
             f"{'p95 busy/idle':>14}"]
    for name in pages:
        (ip50, ip95), (bp50, bp95) = idle[name], busy[name]
        lines.append(f"  {name:<18} {ip50:6.1f} ms {ip95:6.1f} ms {bp50:6.1f} ms {bp95:6.1f} ms "
                     f"{bp95 / ip95:13.2f}x")
    return lines


async def run(url: str, data_dir: Path, world: SeededWorld, document: bytes, requests: int,
              deliveries: int, samples: int) -> None:
    """For each number of server processes its rates; the latencies on ``LATENCY_PROCESSES``
    (its server reused, as starting one costs tens of seconds on a busy machine)."""
    found: dict[int, tuple[float, float]] = {}
    latency: list[str] = []
    for processes in PROCESS_COUNTS:
        async with serve_portal(url, data_dir, processes, **SERVER_SETTINGS) as portal:
            pages, served, deliver = await rates(portal, processes, world, document, requests, deliveries)
            print(f"  {processes} process{'es' if processes > 1 else '  '}: {pages:8.1f} pages/s "
                  f"{served:8.1f} deliveries/s  (load average {os.getloadavg()[0]:.1f})", flush=True)
            found[processes] = (pages, served)
            if processes == LATENCY_PROCESSES:
                latency = await latency_under_deliveries(portal, deliver, samples)
    for processes in PROCESS_COUNTS[1:]:
        pages, served = found[processes]
        print(f"  ratio {processes}/1 processes: pages {pages / found[1][0]:5.2f}x, "
              f"deliveries {served / found[1][1]:5.2f}x")
    print("\n".join(latency))


async def main(cases: int, requests: int, deliveries: int, samples: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        async with scratch_database("bench_cluster") as url:
            await measure(url, Path(scratch), cases, requests, deliveries, samples)


async def measure(url: str, data_dir: Path, cases: int, requests: int, deliveries: int,
                  samples: int) -> None:
    """Seed the database at ``url`` for servers on ``data_dir`` and print the figures."""
    started = time.perf_counter()
    document = await sealed_pdf(data_dir, DEMO_AGENCIES[0])  # the development PKI of the servers
    world = await seed_world(url, data_dir, cases, document)
    print(f"PostgreSQL, seeded {world.cases} cases, {world.deliveries} served documents and "
          f"{world.publications} published decisions in {time.perf_counter() - started:.0f} s; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work on the "
          "machine lowers every figure)")
    print(f"Page mix ({requests} requests) and deliveries ({deliveries}) per second, "
          f"{CONCURRENCY} concurrent clients over loopback HTTP")
    await run(url, data_dir, world, document, requests, deliveries, samples)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=sized(400, 12))
    parser.add_argument("--requests", type=int, default=sized(900, 18))
    parser.add_argument("--deliveries", type=int, default=sized(300, 4))
    parser.add_argument("--samples", type=int, default=sized(200, 5))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.requests, arguments.deliveries, arguments.samples))
