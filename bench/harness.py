"""What the end-to-end benchmarks share: a scratch PostgreSQL database, a real ``portal serve``
beside a bare Starlette endpoint, and concurrent loopback clients.

The benchmarks print ratios of the portal against a bare endpoint; both sides must be set up
the same way in every script, or the ratios compare set-ups rather than work, so the scripts
set up through here. They import it as ``bench.harness`` once the repository root is on
``sys.path``. ``make bench`` runs every ``bench/*.py``: run on its own, this module does nothing.

Smoke mode: with ``BENCH_SMOKE=1`` in the environment (``make bench-smoke``, run by CI) every
benchmark runs its whole path with tiny counts (``sized``), so a benchmark that no longer
runs fails CI instead of rotting unseen; its figures then mean nothing.

The PostgreSQL admin connection is ``TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test); each benchmark creates and drops its own database.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from portal.database import create_engine  # noqa: E402
from portal.schema import upgrade  # noqa: E402

CONCURRENCY = 8
PORTAL_SERVE = (sys.executable, "-m", "portal.cli", "serve")
SMOKE = os.environ.get("BENCH_SMOKE") == "1"

Call = Callable[[httpx.AsyncClient, int], Awaitable[int]]


def sized(full: int, smoke: int) -> int:
    """A count of work: ``full`` for a measurement, ``smoke`` under ``BENCH_SMOKE=1``."""
    return smoke if SMOKE else full


def admin_url() -> str:
    """The admin connection (asyncpg form) on which the benchmarks create their databases."""
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database named ``prefix`` + random hex, dropped on exit;
    yields its SQLAlchemy URL (``postgresql+asyncpg://…``)."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    try:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_mib(pid: int, key: str) -> float:
    """A memory figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``, …) in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


_TICK = os.sysconf("SC_CLK_TCK")  # the benchmarks read /proc: Linux only


def _proc_cpu(stat: str) -> tuple[int, float, float]:
    """(parent pid, own CPU seconds, CPU seconds of its reaped children) from a
    ``/proc/<pid>/stat`` line."""
    fields = [int(field) for field in stat.rsplit(")", 1)[1].split()[1:15]]
    return fields[0], (fields[10] + fields[11]) / _TICK, (fields[12] + fields[13]) / _TICK


def _all_processes() -> dict[int, tuple[int, float, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = _proc_cpu((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
    return found


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds by whom (Linux, from /proc): a server process itself, the processes it
    started (verification workers and their forkserver; those that ended count through
    their parent), the PostgreSQL backends of the benchmark's database, and this process,
    where the clients run."""

    server: float
    helpers: float
    database: float
    clients: float

    def __sub__(self, other: CpuUse) -> CpuUse:
        return CpuUse(self.server - other.server, self.helpers - other.helpers,
                      self.database - other.database, self.clients - other.clients)

    def report(self, what: str, count: int) -> str:
        """CPU milliseconds per ``what`` (of ``count``) by whom, and the rate these would allow
        on this machine's CPUs if every process kept every CPU busy: an upper bound."""
        parts = (self.server, self.helpers, self.database, self.clients)
        per = [1000 * part / count for part in (*parts, sum(parts))]
        cpus = os.cpu_count() or 1
        return (f"CPU per {what}: server {per[0]:.2f} ms + its workers {per[1]:.2f} ms + PostgreSQL "
                f"{per[2]:.2f} ms + clients {per[3]:.2f} ms = {per[4]:.2f} ms: at most "
                f"{cpus * 1000 / per[4]:.0f} /s on {cpus} CPUs")


async def cpu_use(server_pid: int, database_url: str | None = None) -> CpuUse:
    """CPU seconds spent so far by ``server_pid``, its descendants, the backends of
    ``database_url``'s database and this process; subtract two readings for a phase (a
    PostgreSQL backend that ends within the phase would take its CPU out of the figure: the
    servers' pools keep theirs)."""
    processes = _all_processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    _, own, reaped = processes.get(server_pid, (0, 0.0, 0.0))
    helpers, pending = reaped, list(children.get(server_pid, ()))
    while pending:
        pid = pending.pop()
        helpers += processes[pid][1] + processes[pid][2]
        pending.extend(children.get(pid, ()))
    database = 0.0
    if database_url is not None:
        admin = await asyncpg.connect(admin_url())
        try:
            backends = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1",
                                         database_url.rsplit("/", 1)[1])
        finally:
            await admin.close()
        database = sum(processes[row["pid"]][1] for row in backends if row["pid"] in processes)
    times = os.times()
    return CpuUse(own, helpers, database, times.user + times.system)


def portal_env(database_url: str, data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of a ``portal serve`` on ``port``, quiet but for warnings."""
    return {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING", **settings}


async def wait_healthy(url: str, process: asyncio.subprocess.Process | None = None) -> None:
    """Wait until ``url`` answers: up to three minutes, as several server processes each import
    the whole portal first, slowly on a busy machine; fail at once if ``process`` exits."""
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"the server of {url} exited with {process.returncode}")
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@dataclass(frozen=True)
class Portal:
    """A running ``portal serve``: its process (the supervisor when there are several server
    processes), base URL and environment (to load the same settings in the benchmark)."""

    process: asyncio.subprocess.Process
    url: str
    env: dict[str, str]


@asynccontextmanager
async def serve_portal(database_url: str, data_dir: Path, workers: int = 1,
                       **settings: str) -> AsyncIterator[Portal]:
    """``portal serve --workers N`` on the database, answering; stopped (SIGTERM) on exit."""
    port = free_port()
    env = portal_env(database_url, data_dir, port, **settings)
    process = await asyncio.create_subprocess_exec(*PORTAL_SERVE, "--workers", str(workers), cwd=ROOT,
                                                   env=env, stdout=asyncio.subprocess.DEVNULL)
    try:
        portal = Portal(process, f"http://127.0.0.1:{port}", env)
        await wait_healthy(f"{portal.url}/healthz", process)
        yield portal
    finally:
        process.terminate()
        await process.wait()


@dataclass(frozen=True)
class Servers:
    """A running ``portal serve`` and bare endpoint: the portal's process, base URL and
    environment, and the bare endpoint's URL and process id."""

    portal: asyncio.subprocess.Process
    portal_url: str
    env: dict[str, str]
    bare_url: str
    bare_pid: int


@asynccontextmanager
async def portal_and_bare(database_url: str, data_dir: Path, bare_app: str) -> AsyncIterator[Servers]:
    """``portal serve`` on the database and ``bare_app`` (Starlette source defining ``app``
    with ``POST /x``) under uvicorn, each in its own process, both answering; stopped on exit."""
    bare_port = free_port()
    async with serve_portal(database_url, data_dir) as portal:
        bare = await asyncio.create_subprocess_exec(
            sys.executable, "-c", bare_app + f"\nimport uvicorn; uvicorn.run(app, port={bare_port}, "
            "log_level='warning')", cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
        try:
            servers = Servers(portal.process, portal.url, portal.env, f"http://127.0.0.1:{bare_port}/x",
                              bare.pid)
            await wait_healthy(servers.bare_url)
            yield servers
        finally:
            bare.terminate()
            await bare.wait()


def client_limits(fresh_connections: bool) -> httpx.Limits:
    """CONCURRENCY connections, kept alive between calls unless ``fresh_connections``: then each
    call connects anew, as many different citizens do, and the connections spread over several
    server processes (a kept-alive one stays with the process that accepted it)."""
    kept = 0 if fresh_connections else None
    return httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=kept)


async def run_clients(count: int, request: Call, expect: int, *, fresh_connections: bool = False) -> float:
    """``count`` calls of ``request(http, n)`` by CONCURRENCY clients, each answering the
    status ``expect``; returns seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            status = await request(http, n)
            if status != expect:
                raise RuntimeError(f"request {n} answered {status}")

    async with httpx.AsyncClient(timeout=60, limits=client_limits(fresh_connections)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


async def run_clients_until(stop: asyncio.Event, request: Call, expect: int, *,
                            fresh_connections: bool = False) -> int:
    """CONCURRENCY clients calling ``request(http, n)`` back to back until ``stop`` is set,
    each answering ``expect``; returns how many calls were made."""
    made = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal made
        while not stop.is_set():
            n, made = made, made + 1
            status = await request(http, n)
            if status != expect:
                raise RuntimeError(f"request {n} answered {status}")

    async with httpx.AsyncClient(timeout=60, limits=client_limits(fresh_connections)) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
    return made


async def agency_token(base: str, client_id: str, client_secret: str) -> str:
    """A bearer token of an agency's API client (client credentials grant)."""
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(f"{base}/api/v1/token", data={"grant_type": "client_credentials"},
                                   auth=(client_id, client_secret))
        response.raise_for_status()
        return str(response.json()["access_token"])


def delivery_call(base: str, token: str, case_code: str, party: dict[str, str], document: bytes) -> Call:
    """A ``Call`` serving ``document`` (sealed by the token's agency) on ``party`` (``{"id_number":
    …}`` or ``{"credit_code": …}``) of the case through the agency API; call n is titled n."""

    async def deliver(http: httpx.AsyncClient, n: int) -> int:
        meta = {"document_type": "行政处罚决定书", "title": f"决定书 {n}", "party": party}
        response = await http.post(
            f"{base}/api/v1/cases/{case_code}/deliveries", headers={"authorization": f"Bearer {token}"},
            files={"document": ("d.pdf", document, "application/pdf"),
                   "metadata": (None, json.dumps(meta, ensure_ascii=False), "application/json")})
        return response.status_code

    return deliver
