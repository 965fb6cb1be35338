"""Benchmark of the notification outbox on PostgreSQL: drain rate with 1, 2 and 4 workers.

Run with ``.venv/bin/python bench/notifications.py [--events N]``. It creates its own database
on the server named by ``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
migrates it, and drops it at the end. For each worker count it:

1. starts that many ``portal worker`` processes with the embedded sandbox channels (the mail
   directory, the in-process sandbox SMS gateway and its record, the in-portal notice table)
   and waits until each has started its loop and finished the start-up work that goes on
   beside it (the development PKI, the first rounds of the other jobs: seconds of CPU on a
   loaded machine), so start-up does not count;
2. enqueues N events (default 1,000) for parties who chose e-mail and SMS, through
   ``outbox.enqueue`` in one transaction (3N messages, visible at once), and measures
   messages per second from the first attempt's start to the last attempt's end, as recorded
   in ``outbox_attempts``, and the workers' CPU time per message (from ``/proc``, start-up
   excluded); then stops the workers with SIGTERM;
3. measures the raw database work for the same rows in the same run: the same number of
   connections INSERT the 3N rows into a copy of ``outbox_messages`` (same columns, indexes
   and checks; one multi-row INSERT per connection), then UPDATE each row to delivered in its
   own transaction, with the workers' ``synchronous_commit = off``. The ratio is drain rate /
   raw rate: what claiming, rendering, sending to the sandboxes and recording the attempts
   cost over the bare minimum.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import asyncpg  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.harness import SMOKE, scratch_database, sized  # noqa: E402
from notifications import Kind  # noqa: E402
from portal.database import create_engine, session_factory, transaction  # noqa: E402
from portal.models import NotificationPreference, Party  # noqa: E402
from portal.services import outbox  # noqa: E402

PUBLIC_URL = "http://127.0.0.1:8000"
WORKER_COUNTS = (1, 2) if SMOKE else (1, 2, 4)
FACTS = {
    "case_code": "FJ-FZ-2026-000123",
    "document_type": "行政处罚决定书",
    "agency_name": "福州市市场监督管理局",
    "document_title": "关于某某公司违法行为的行政处罚决定书",
    "arrived_at": datetime(2026, 9, 28, 1, 0, tzinfo=UTC),
}
RAW_COLUMNS = ("kind", "channel", "party_id", "recipient", "context", "dedupe_key",
               "template_version", "status", "attempts", "next_attempt_at", "created_at")
RAW_TYPES = ("text", "text", "int", "text", "json", "text", "int", "text", "int",
             "timestamptz", "timestamptz")


async def parties(url: str, count: int, run: int) -> list[int]:
    """Parties who chose e-mail and SMS."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with transaction(session_factory(engine)) as db:
            rows = [Party(kind="person", name="测试", id_number=f"B{run}{n:016d}", created_at=now)
                    for n in range(count)]
            db.add_all(rows)
            await db.flush()
            await db.execute(insert(NotificationPreference), [
                {"party_id": party.id, "email": f"p{party.id}@example.com",
                 "mobile": f"138{party.id % 100000000:08d}", "email_enabled": True,
                 "sms_enabled": True, "updated_at": now} for party in rows])
            return [party.id for party in rows]
    finally:
        await engine.dispose()


async def enqueue_all(url: str, party_ids: list[int], run: int) -> float:
    """One event per party, all in one causing transaction (so the workers see them at once);
    returns events per second."""
    engine = create_engine(url)
    renderer = outbox.renderer_for(PUBLIC_URL)
    try:
        started = time.perf_counter()
        async with transaction(session_factory(engine)) as db:
            for party_id in party_ids:
                await outbox.enqueue(db, event_id=f"bench:{run}:{party_id}",
                                     kind=Kind.DOCUMENT_ARRIVED, party_id=party_id,
                                     context=FACTS, renderer=renderer)
        return len(party_ids) / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def start_workers(url: str, workers: int, data_dir: Path) -> list[asyncio.subprocess.Process]:
    """``workers`` worker processes, returned once each has started its loop."""
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, "PUBLIC_URL": PUBLIC_URL,
           "NOTIFY_BATCH_SIZE": "50", "NOTIFY_POLL_SECONDS": "0.1",
           "NOTIFY_PARTY_LIMIT_PER_HOUR": "100000", "NOTIFY_GLOBAL_LIMIT_PER_MINUTE": "10000000",
           "LOG_LEVEL": "INFO"}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portal.cli", "worker", cwd=ROOT,
            env={**env, "DATA_DIR": str(data_dir / f"worker-{n}")},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        for n in range(workers)
    ]
    for process in processes:
        assert process.stderr is not None
        while b"notification worker started" not in await process.stderr.readline():
            if process.returncode is not None:
                raise SystemExit("a worker did not start")
        # Keep reading its log so a full pipe never blocks it.
        asyncio.get_running_loop().create_task(process.stderr.read())
    await settled(processes)
    return processes


async def settled(processes: list[asyncio.subprocess.Process]) -> None:
    """Wait until the workers idle (under a tenth of a CPU each over half a second, what their
    polling costs), at most 30 s: their loops start before the work beside them ends."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while True:
                before = sum(_cpu_seconds(process.pid) for process in processes)
                await asyncio.sleep(0.5)
                used = sum(_cpu_seconds(process.pid) for process in processes) - before
                if used < 0.05 * len(processes):
                    return


async def drain(url: str, workers: int, data_dir: Path, party_ids: list[int], run: int
                ) -> tuple[float, float, float]:
    """Enqueue with ``workers`` warm workers waiting; enqueue events/s, drain messages/s (from
    the first attempt's start to the last attempt's end in the attempt log) and the workers'
    CPU milliseconds per message."""
    processes = await start_workers(url, workers, data_dir)
    expected = 3 * len(party_ids)
    cpu_before = sum(_cpu_seconds(process.pid) for process in processes)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        enqueued = await enqueue_all(url, party_ids, run)
        while True:  # the workers are other processes: watch their committed work
            delivered = await connection.fetchval(
                "SELECT count(*) FROM outbox_messages WHERE status = 'delivered'")
            if delivered == expected:
                break
            await asyncio.sleep(0.2)
        cpu_ms = (sum(_cpu_seconds(process.pid) for process in processes) - cpu_before) * 1000 / expected
        row = await connection.fetchrow(
            "SELECT count(*) AS n, min(started_at) AS first, max(finished_at) AS last,"
            " count(DISTINCT message_id) AS messages FROM outbox_attempts")
    finally:
        await connection.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(process.wait() for process in processes))
    if any(codes) or row["n"] != row["messages"] or row["n"] != expected:
        raise SystemExit(f"exit codes {codes}; {row['n']} attempts for {row['messages']} messages")
    return enqueued, row["n"] / (row["last"] - row["first"]).total_seconds(), cpu_ms


def _cpu_seconds(pid: int) -> float:
    """CPU seconds a running process has used so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def raw(url: str, connections: int) -> float:
    """INSERT the same rows into a copy of the table, then UPDATE each in its own transaction."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    setup = await asyncpg.connect(dsn)
    await setup.execute("DROP TABLE IF EXISTS bench_raw")
    await setup.execute("CREATE TABLE bench_raw (LIKE outbox_messages INCLUDING ALL)")
    columns = ", ".join(RAW_COLUMNS)
    rows = await setup.fetch(f"SELECT {columns} FROM outbox_messages")
    pool = [await asyncpg.connect(dsn, server_settings={"synchronous_commit": "off"})
            for _ in range(connections)]
    shares = [rows[n::connections] for n in range(connections)]
    casts = ", ".join(f"${n + 1}::{kind}[]" for n, kind in enumerate(RAW_TYPES))

    async def work(connection: asyncpg.Connection, share: list[asyncpg.Record]) -> None:
        ids = await connection.fetch(
            f"INSERT INTO bench_raw ({columns}) SELECT * FROM unnest({casts}) RETURNING id",
            *[[record[name] for record in share] for name in RAW_COLUMNS])
        for record in ids:
            async with connection.transaction():
                await connection.execute(
                    "UPDATE bench_raw SET status = 'delivered', attempts = 1, next_attempt_at = NULL,"
                    " delivered_at = now() WHERE id = $1", record["id"])

    started = time.perf_counter()
    await asyncio.gather(*(work(connection, share) for connection, share in zip(pool, shares,
                                                                                strict=True)))
    elapsed = time.perf_counter() - started
    for connection in pool:
        await connection.close()
    await setup.execute("DROP TABLE bench_raw")
    await setup.close()
    return len(rows) / elapsed


async def empty(url: str) -> None:
    """Empty the scratch database between runs. TRUNCATE of the records of legal acts (reached
    through CASCADE) is refused by a trigger, as in production; a scratch database switches
    triggers off for this one transaction, as the test suite's cleanup does."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    async with connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute("TRUNCATE outbox_attempts, outbox_messages, inbox_notices,"
                                 " notification_preferences, parties RESTART IDENTITY CASCADE")
    await connection.close()


async def main(events: int) -> None:
    async with scratch_database(f"bench_notifications_{os.getpid()}") as url:
        print(f"PostgreSQL, {events} events x 3 channels = {3 * events} messages per run, "
              f"sandbox channels (mail directory, in-process SMS gateway, in-portal notices)")
        print(f"{'workers':>7} {'enqueue ev/s':>12} {'drain msg/s':>12} {'cpu ms/msg':>10} "
              f"{'raw rows/s':>11} {'ratio':>6}")
        print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start)")
        for run, workers in enumerate(WORKER_COUNTS):
            await empty(url)
            party_ids = await parties(url, events, run)
            with tempfile.TemporaryDirectory() as scratch:
                enqueued, rate, cpu_ms = await drain(url, workers, Path(scratch), party_ids, run)
            baseline = await raw(url, workers)
            print(f"{workers:>7} {enqueued:>12.0f} {rate:>12.0f} {cpu_ms:>10.2f} {baseline:>11.0f} "
                  f"{rate / baseline:>6.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=sized(1000, 5))
    asyncio.run(main(parser.parse_args().events))
