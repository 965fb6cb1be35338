"""The server is killed (SIGKILL) during a burst of deliveries (SECURITY.md "Reliability battery").

After a restart: every delivery the agency got a 201 for is in the mailbox and gets its
receipt; nothing is half-stored (a delivery row always has its arrival event and its
follow-up jobs); a request that died without an answer is retried with the same
Idempotency-Key and yields exactly one delivery. Deliveries that committed just before the
kill but whose 201 never left the process are counted and reported in the test output: the
agency learns of them by that retry, which is what Idempotency-Key is for.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from portal.blobstore.files import FileBlobStore
from portal.database import transaction
from portal.notary import Notary, dev_pki_dir, development_services
from portal.services import agencies, evidence
from portal.workers.eservice import JOBS, EserviceDeps
from tests.builders import case_world, credit_code, sealed_pdf, sign_consent
from tests.conftest import ROOT_DIR, Database

BURST = 24
KILL_AFTER = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start(database: Database, data_dir: Path, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": database.url, "DATA_DIR": str(data_dir), "PORT": str(port),
           "PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    env.pop("OIDC_ISSUER", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portal.cli", "serve", cwd=ROOT_DIR, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


async def test_sigkill_during_a_burst_loses_nothing_acknowledged(database: Database, data_dir: Path) -> None:
    if database.backend != "postgresql":
        pytest.skip("one backend is enough for a process-kill test; PostgreSQL is production's")
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    async with transaction(database.sessions) as db:
        client = await agencies.create_client(db, "福州市市场监督管理局", credit_code("福州市市场监督管理局"))
    document = await sealed_pdf(data_dir, client.agency_name)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = await _start(database, data_dir, port)

    async def deliver(http: httpx.AsyncClient, token: str, n: int) -> int | None:
        meta = {"document_type": "行政处罚决定书", "title": f"决定书 {n}",
                "party": {"id_number": "35010219850312123X"}}
        try:
            response = await http.post(
                f"{base}/api/v1/cases/{w.case_code}/deliveries",
                headers={"authorization": f"Bearer {token}", "idempotency-key": f"burst-{n}"},
                files={"document": ("d.pdf", document, "application/pdf"),
                       "metadata": (None, json.dumps(meta, ensure_ascii=False), "application/json")})
        except httpx.TransportError:
            return None
        return response.status_code

    async with httpx.AsyncClient(timeout=30) as http:
        token = (await http.post(f"{base}/api/v1/token", data={"grant_type": "client_credentials"},
                                 auth=(client.client_id, client.client_secret))).json()["access_token"]
        tasks = [asyncio.create_task(deliver(http, token, n)) for n in range(BURST)]
        done = 0
        for finished in asyncio.as_completed(tasks):
            await finished
            done += 1
            if done == KILL_AFTER:
                os.kill(server.pid, signal.SIGKILL)
        outcomes = [task.result() for task in tasks]
    await asyncio.wait_for(server.wait(), 10)
    acknowledged = {f"burst-{n}" for n, status in enumerate(outcomes) if status == 201}
    assert len(acknowledged) >= KILL_AFTER - 1

    async with database.sessions() as db:
        stored = set((await db.execute(text("SELECT idempotency_key FROM deliveries"))).scalars())
        orphans = (await db.execute(text(
            "SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM evidence_events e "
            "WHERE e.hash = d.arrival_event_hash) OR (SELECT count(*) FROM jobs j "
            "WHERE j.subject_id = d.id) <> 2"))).scalar_one()
    assert acknowledged <= stored  # every 201 is in the mailbox
    assert orphans == 0  # nothing half-written is visible
    unacknowledged_but_stored = stored - acknowledged
    print(f"\nkill test: {len(acknowledged)} acknowledged, "
          f"{len(unacknowledged_but_stored)} committed without a 201 before the kill")

    server = await _start(database, data_dir, port)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            token = (await http.post(f"{base}/api/v1/token", data={"grant_type": "client_credentials"},
                                     auth=(client.client_id, client.client_secret))).json()["access_token"]
            retried = await asyncio.gather(*(deliver(http, token, n) for n, status in enumerate(outcomes)
                                             if status != 201))
        assert all(status == 201 for status in retried)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 20)

    services = development_services(dev_pki_dir(data_dir))
    deps = EserviceDeps(database.sessions, Notary(lambda: services), FileBlobStore(data_dir / "blobs"))
    while await JOBS.run_due(deps, limit=20):
        pass
    await deps.notary.aclose()
    async with database.sessions() as db:
        keys = (await db.execute(text("SELECT idempotency_key FROM deliveries"))).scalars().all()
        without_receipt = (await db.execute(text(
            "SELECT count(*) FROM deliveries d LEFT JOIN service_receipts r ON r.delivery_id = d.id "
            "WHERE r.id IS NULL"))).scalar_one()
        assert (await evidence.verify_chains(db)).ok
    assert sorted(keys) == sorted(f"burst-{n}" for n in range(BURST))  # exactly one per request
    assert without_receipt == 0
