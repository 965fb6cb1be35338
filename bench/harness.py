"""What the end-to-end benchmarks share: a scratch PostgreSQL database, a real ``portal serve``
beside a bare Starlette endpoint, and concurrent loopback clients.

The benchmarks print ratios of the portal against a bare endpoint; both sides must be set up
the same way in every script, or the ratios compare set-ups rather than work, so the scripts
set up through here. They import it as ``bench.harness`` once the repository root is on
``sys.path``. ``make bench`` runs every ``bench/*.py``: run on its own, this module does nothing.

The PostgreSQL admin connection is ``TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test); each benchmark creates and drops its own database.
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

Call = Callable[[httpx.AsyncClient, int], Awaitable[int]]


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


def portal_env(database_url: str, data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of a ``portal serve`` on ``port``, quiet but for warnings."""
    return {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING", **settings}


async def wait_healthy(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass(frozen=True)
class Servers:
    """A running ``portal serve`` and bare endpoint: the portal's process, base URL and
    environment (to load the same settings in the benchmark), and the bare endpoint's URL."""

    portal: asyncio.subprocess.Process
    portal_url: str
    env: dict[str, str]
    bare_url: str


@asynccontextmanager
async def portal_and_bare(database_url: str, data_dir: Path, bare_app: str) -> AsyncIterator[Servers]:
    """``portal serve`` on the database and ``bare_app`` (Starlette source defining ``app``
    with ``POST /x``) under uvicorn, each in its own process, both answering; stopped on exit."""
    port, bare_port = free_port(), free_port()
    env = portal_env(database_url, data_dir, port)
    processes = [
        await asyncio.create_subprocess_exec(*PORTAL_SERVE, cwd=ROOT, env=env,
                                             stdout=asyncio.subprocess.DEVNULL),
    ]
    try:
        processes.append(await asyncio.create_subprocess_exec(
            sys.executable, "-c", bare_app + f"\nimport uvicorn; uvicorn.run(app, port={bare_port}, "
            "log_level='warning')", cwd=ROOT, stdout=asyncio.subprocess.DEVNULL))
        servers = Servers(processes[0], f"http://127.0.0.1:{port}", env, f"http://127.0.0.1:{bare_port}/x")
        await wait_healthy(f"{servers.portal_url}/healthz")
        await wait_healthy(servers.bare_url)
        yield servers
    finally:
        for process in processes:
            process.terminate()
            await process.wait()


async def run_clients(count: int, request: Call, expect: int) -> float:
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

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started
