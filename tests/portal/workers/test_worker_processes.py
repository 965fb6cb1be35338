"""``portal worker`` as an operator runs it: real processes against the test database.

Proves (SECURITY.md, reliability battery):
- the embedded defaults work with nothing configured: ``portal worker --once`` writes the
  e-mail to the mail sandbox and the SMS to the sandbox gateway's record (both databases);
- a worker killed with SIGKILL mid-batch loses nothing: after a restart every message is
  delivered, and the only duplicates are the messages that were in flight at a kill, one
  extra copy per kill (PostgreSQL);
- two worker processes draining 10,000 messages in parallel never send one twice
  (``FOR UPDATE SKIP LOCKED``; PostgreSQL).

The SMTP server and the sandbox records are the receivers' view: they count what arrived.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import func, insert, select

from notifications.channels.base import message_reference
from portal.database import transaction
from portal.models import OutboxAttempt, OutboxMessage
from portal.services import outbox
from tests.conftest import ROOT_DIR, Database
from tests.notifications.conftest import free_port
from tests.portal.workers.notification_factories import PORTAL_URL, attempts, enqueue, make_party, messages

postgres_only = pytest.mark.postgres


def _require_postgresql(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("several worker processes side by side need PostgreSQL (SKIP LOCKED)")


def worker_env(database: Database, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database.url,
        "DATA_DIR": str(data_dir),
        "PUBLIC_URL": PORTAL_URL,
        "NOTIFY_POLL_SECONDS": "0.2",
        "NOTIFY_PARTY_LIMIT_PER_HOUR": "100000",
        "NOTIFY_GLOBAL_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _open_log(env: dict[str, str]) -> BinaryIO:
    data_dir = Path(env["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    return (data_dir / "worker.log").open("ab")


async def start_worker(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    with await asyncio.to_thread(_open_log, env) as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portal.cli", "worker", *args, cwd=ROOT_DIR, env=env,
            stdout=log, stderr=log)


async def wait_for_all_delivered(database: Database, expected: int) -> None:
    """The worker is another process: watch its committed work until it is all done."""
    async with asyncio.timeout(60):
        while True:
            async with database.sessions() as db:
                done = (await db.execute(select(func.count()).select_from(OutboxMessage)
                                         .where(OutboxMessage.status == "delivered"))).scalar_one()
            if done == expected:
                return
            await asyncio.sleep(0.1)


async def test_worker_once_uses_the_sandboxes_by_default(database: Database, tmp_path: Path) -> None:
    party = await make_party(database, email="zhang@example.com", mobile="13800138000")
    await enqueue(database, party, "arrival:1", now=datetime.now(UTC) - timedelta(minutes=1))
    data_dir = tmp_path / "data"

    process = await start_worker(worker_env(database, data_dir, LOG_LEVEL="INFO"), "--once")
    assert await process.wait() == 0, (data_dir / "worker.log").read_text()

    assert {row.status for row in await messages(database)} == {"delivered"}
    [mail] = (data_dir / "mail-sandbox").glob("*.eml")
    parsed = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "【文书送达】福州市市场监督管理局向您送达了行政处罚决定书"
    [sms] = [json.loads(line) for line in (data_dir / "sms-sandbox.jsonl").read_text().splitlines()]
    assert sms["to"] == "13800138000" and sms["reference"] == message_reference("arrival:1:sms")
    log = (data_dir / "worker.log").read_text()
    assert "mail-sandbox" in log  # the sandbox is announced ...
    assert "13800138000" not in log and "zhang@example.com" not in log  # ... personal data never


class SlowMailbox:
    """aiosmtpd handler: records each e-mail's Message-ID, then answers after a pause. At each
    kill point it tells the test and holds its answer until the test has killed the worker, so
    the kill lands while that e-mail is received but not yet acknowledged: in flight."""

    def __init__(self, kill_points: list[int]) -> None:
        self.ids: list[str] = []
        self.kill_points = {n: (threading.Event(), threading.Event()) for n in kill_points}
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.ids.append(str(parsed["Message-ID"]))
            received = len(self.ids)
        if received in self.kill_points:
            reached, killed = self.kill_points[received]
            reached.set()
            await asyncio.to_thread(killed.wait, 4)  # below SMTP_TIMEOUT: no timeout first
        else:
            await asyncio.sleep(0.02)
        return "250 2.0.0 accepted"


@postgres_only
async def test_sigkill_mid_batch_loses_nothing_and_duplicates_only_what_was_in_flight(
    database: Database, tmp_path: Path
) -> None:
    _require_postgresql(database)
    events = 45
    start = datetime.now(UTC) - timedelta(minutes=1)
    for n in range(events):
        party = await make_party(database, email=f"party{n}@example.com")
        await enqueue(database, party, f"arrival:{n}", now=start + timedelta(milliseconds=n))
    mailbox = SlowMailbox(kill_points=[8, 20, 33])
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    server.start()
    env = worker_env(database, tmp_path / "data", SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port),
                     SMTP_TLS="none", SMTP_FROM="noreply@portal.example.gov.cn", SMTP_TIMEOUT="5",
                     NOTIFY_LEASE_SECONDS="7", NOTIFY_BATCH_SIZE="10")
    in_flight: list[str] = []
    try:
        for reached, killed in mailbox.kill_points.values():
            process = await start_worker(env)
            assert await asyncio.to_thread(reached.wait, 30), "the worker never got there"
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            killed.set()
            in_flight.append(mailbox.ids[-1])
        process = await start_worker(env)
        await wait_for_all_delivered(database, expected=2 * events)
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0  # graceful stop
    finally:
        server.stop()

    arrivals = Counter(mailbox.ids)
    extra = {message_id: count - 1 for message_id, count in arrivals.items() if count > 1}
    print(f"\nSIGKILL x{len(in_flight)}: {events} e-mails, {len(mailbox.ids)} arrivals, "
          f"{sum(extra.values())} duplicate(s), all of messages in flight at a kill")
    assert len(arrivals) == events  # every e-mail arrived
    assert sum(extra.values()) == len(in_flight)  # one extra copy per kill, no more
    assert set(extra) <= set(in_flight)
    # The lost attempts are on record, counted against the retry limit.
    tries = await attempts(database)
    assert sum(a.reason == "lease_expired" for a in tries) >= len(in_flight)
    assert {row.status for row in await messages(database)} == {"delivered"}


@postgres_only
async def test_two_workers_drain_ten_thousand_without_sending_any_twice(
    database: Database, tmp_path: Path
) -> None:
    _require_postgresql(database)
    total = 10_000
    party = await make_party(database, mobile="13800138000")
    created = datetime.now(UTC) - timedelta(minutes=1)
    async with transaction(database.sessions) as db:
        await db.execute(insert(OutboxMessage), [{
            "kind": "document_arrived", "channel": "sms", "party_id": party,
            "recipient": "13800138000", "context": {}, "dedupe_key": f"bulk:{n}:sms",
            "template_version": 1, "status": "created", "attempts": 0,
            "next_attempt_at": created, "created_at": created,
        } for n in range(total)])
    data_dirs = [tmp_path / "worker-a", tmp_path / "worker-b"]

    processes = [await start_worker(worker_env(database, data_dir, NOTIFY_BATCH_SIZE="50"), "--once")
                 for data_dir in data_dirs]
    codes = await asyncio.gather(*(process.wait() for process in processes))
    assert codes == [0, 0], [(d / "worker.log").read_text()[-2000:] for d in data_dirs]

    # Each process has its own sandbox gateway: what each one received is what that worker sent.
    sent_by = [Counter(json.loads(line)["reference"]
                       for line in (data_dir / "sms-sandbox.jsonl").read_text().splitlines())
               for data_dir in data_dirs]
    references = {message_reference(f"bulk:{n}:sms") for n in range(total)}
    assert set(sent_by[0]) | set(sent_by[1]) == references  # all sent
    assert not set(sent_by[0]) & set(sent_by[1])  # never by both workers
    assert max(sent_by[0].values()) == max(sent_by[1].values()) == 1  # nor twice by one
    print(f"\n10,000 messages: worker A sent {len(sent_by[0])}, worker B {len(sent_by[1])}")
    assert min(len(sent_by[0]), len(sent_by[1])) > total // 10  # both really worked
    async with transaction(database.sessions) as db:
        assert await outbox.status_counts(db) == {"delivered": total}
        workers = (await db.execute(select(func.count(func.distinct(OutboxAttempt.worker_id))))).scalar_one()
    assert workers == 2
