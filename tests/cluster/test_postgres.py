"""PostgreSQL as the engine that scales, each test on servers of its own (initdb in a temporary
directory, never the machine's shared server): through PgBouncer in transaction pooling, with a
streaming read replica, and restarted under load without restarting the portal (SECURITY.md
"Reliability battery": no acknowledged write lost)."""

from __future__ import annotations

import asyncio
import copy
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from portal.app import create_app
from portal.database import create_engine, session_factory, transaction
from portal.models import Case
from portal.services import agencies
from portal.settings import Settings, load_settings
from tests.cluster.postgres import PgServer, new_server, new_standby, start_pgbouncer
from tests.portal.publicity.factories import body as publication
from tests.portal.web.api.factories import NEW_CASE

pytestmark = pytest.mark.cluster
ROOT_DIR = Path(__file__).resolve().parents[2]
AGENCY = "福州市市场监督管理局"


@pytest.fixture(scope="module")
def primary() -> Iterator[PgServer]:
    server = new_server()
    try:
        yield server
    finally:
        server.remove()


def migrate(url: str, data_dir: Path) -> None:
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "PATH": ""}
    subprocess.run([sys.executable, "-m", "portal.cli", "db", "upgrade"], cwd=ROOT_DIR, env=env,
                   check=True, capture_output=True, timeout=300)


async def new_database(server: PgServer, data_dir: Path) -> tuple[str, str]:
    name = f"portal_{secrets.token_hex(4)}"
    url = await server.create_database(name)
    await asyncio.to_thread(migrate, url, data_dir)
    return name, url


def settings_for(data_dir: Path, url: str, **env: str) -> Settings:
    return load_settings({"DATABASE_URL": url, "DATA_DIR": str(data_dir),
                          "PUBLIC_URL": "http://127.0.0.1:8000", **env})


@pytest_asyncio.fixture(loop_scope="session")
async def running() -> AsyncIterator[list[Starlette]]:
    """Apps a test built; their lifespan's shutdown, run at the end."""
    apps: list[Starlette] = []
    yield apps
    for app in apps:
        await app.state.blobs.aclose()
        await app.state.notary.aclose()
        await app.state.engine.dispose()
        if app.state.replica_engine is not None:
            await app.state.replica_engine.dispose()


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000",
                             timeout=60)


async def agency_token(app: Starlette) -> str:
    async with transaction(app.state.sessions) as db:
        credentials = await agencies.create_client(db, AGENCY)
    async with client(app) as http:
        answer = await http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                                 auth=(credentials.client_id, credentials.client_secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def new_case(n: int, run: str) -> dict[str, Any]:
    case = copy.deepcopy(NEW_CASE)
    case["agency_case_number"] = f"榕市监处罚〔2026〕{run}-{n}号"
    return case


async def mixed_load(app: Starlette, token: str, run: str, cases: int, *, concurrency: int = 8
                     ) -> tuple[dict[str, str], list[int]]:
    """Agencies registering cases (and reading each back) while the public searches and the
    load balancer polls the health check. An agency repeats a registration answered 503 (the
    database was away), as the API tells it to; 409 ``case_exists`` to such a repeat means the
    first attempt was stored after all. Returns the acknowledged cases (number -> code, or
    number -> "" for those only known through the 409) and every status seen."""
    acknowledged: dict[str, str] = {}
    statuses: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(cases):
        queue.put_nowait(n)
    bearer = {"authorization": f"Bearer {token}"}

    async def agency() -> None:
        async with client(app) as http:
            while not queue.empty():
                body = new_case(queue.get_nowait(), run)
                for attempt in range(200):
                    answer = await http.post("/api/v1/cases", json=body, headers=bearer)
                    statuses.append(answer.status_code)
                    if answer.status_code == 201:
                        acknowledged[body["agency_case_number"]] = answer.json()["code"]
                        found = await http.get(f"/api/v1/cases/{answer.json()['code']}", headers=bearer)
                        statuses.append(found.status_code)
                        break
                    if attempt and answer.status_code == 409 and answer.json()["code"] == "case_exists":
                        acknowledged[body["agency_case_number"]] = ""
                        break
                    if answer.status_code != 503:
                        raise AssertionError(f"unclean failure: {answer.status_code} {answer.text}")
                    # a clean failure: the problem detail that says "repeat shortly"
                    assert answer.json()["code"] == "service_unavailable", answer.text
                    assert answer.headers["retry-after"] == "5"
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError("the database never came back")

    async def public() -> None:
        async with client(app) as http:
            while not queue.empty():
                for path in ("/publicity?q=酸奶", "/healthz"):
                    statuses.append((await http.get(path)).status_code)
                await asyncio.sleep(0.5)  # within the search limit of 120 a minute

    await asyncio.gather(*(agency() for _ in range(concurrency)), public())
    return acknowledged, statuses


async def stored_cases(url: str, numbers: list[str]) -> dict[str, str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            rows = (await db.execute(select(Case.agency_case_number, Case.code)
                                     .where(Case.agency_case_number.in_(numbers)))).all()
    finally:
        await engine.dispose()
    return dict(rows)


async def test_the_portal_works_through_pgbouncer_in_transaction_pooling(
        primary: PgServer, tmp_path: Path, running: list[Starlette],
        caplog: pytest.LogCaptureFixture) -> None:
    # PITFALLS.md: transaction pooling breaks prepared-statement caches unless they are off
    name, direct_url = await new_database(primary, tmp_path)
    bouncer = start_pgbouncer(primary, name, server_connections=2)
    try:
        app = create_app(settings_for(tmp_path, bouncer.url(name), DATABASE_TRANSACTION_POOLING="1"))
        running.append(app)
        token = await agency_token(app)
        acknowledged, statuses = await mixed_load(app, token, "bouncer", 60)
        assert set(statuses) <= {200, 201}, sorted(set(statuses))
        assert await stored_cases(direct_url, list(acknowledged)) == acknowledged
        assert len(acknowledged) == 60
        # a public count is a statement of its own (rate_limits.hit_alone): through the pooler
        # too, 30 lookups at once are each counted once, 20 answered and the rest refused
        async with client(app) as http:
            lookups = await asyncio.gather(*(http.get("/receipts/verify?code=1&number=1&check=1")
                                             for _ in range(30)))
        assert sorted(answer.status_code for answer in lookups) == [404] * 20 + [429] * 10

        # The same load without the setting: the pooler hands one client's statements to
        # another's server connection, and requests fail; so the setting is what makes it work.
        unprepared = create_app(settings_for(tmp_path, bouncer.url(name)))
        running.append(unprepared)
        caplog.clear()
        with pytest.raises(AssertionError, match="unclean failure: 500"):
            await mixed_load(unprepared, token, "cached", 60)
        # the 500 is answered as a problem detail; the log names the cause by its type
        assert "InvalidSQLStatementNameError" in caplog.text
    finally:
        bouncer.stop()


async def test_public_reads_go_to_the_replica_and_a_partys_own_reads_to_the_primary(
        primary: PgServer, tmp_path: Path, running: list[Starlette]) -> None:
    name, url = await new_database(primary, tmp_path)
    standby = await asyncio.to_thread(new_standby, primary)
    try:
        app = create_app(settings_for(tmp_path, url, DATABASE_REPLICA_URL=standby.url(name)))
        running.append(app)
        token = await agency_token(app)
        headers = {"authorization": f"Bearer {token}"}
        async with client(app) as http:
            first = await http.post("/api/v1/publications", json=publication("榕市监罚〔2026〕801号"),
                                    headers=headers)
            assert first.status_code == 201, first.text
            for _ in range(100):  # the standby follows within moments
                if "榕市监罚〔2026〕801号" in (await http.get("/publicity?q=801")).text:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the replica never showed the first publication")

            standby_connection = await asyncpg.connect(standby.dsn(name))
            try:
                await standby_connection.execute("SELECT pg_wal_replay_pause()")
                second = await http.post("/api/v1/publications", json=publication("榕市监罚〔2026〕802号"),
                                         headers=headers)
                assert second.status_code == 201
                item = second.json()["id"]
                # the agency reads its own write at once (primary) ...
                assert (await http.get(f"/api/v1/publications/{item}", headers=headers)).status_code == 200
                # ... the public search is served by the paused replica, which does not have it
                assert "榕市监罚〔2026〕802号" not in (await http.get("/publicity?q=802")).text
                assert (await http.get(f"/publicity/{item}")).status_code == 404
                health = (await http.get("/healthz")).json()
                assert health["database"] == "ok" and health["replica"] == "ok"
                await standby_connection.execute("SELECT pg_wal_replay_resume()")
            finally:
                await standby_connection.close()
            for _ in range(100):
                if (await http.get(f"/publicity/{item}")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the replica did not catch up after resuming")

            await asyncio.to_thread(standby.stop, "immediate")
            # a replica that is gone costs the public nothing: the primary answers instead
            answer = await http.get("/publicity?q=802")
            assert answer.status_code == 200 and "榕市监罚〔2026〕802号" in answer.text
            health = await http.get("/healthz")
            assert health.status_code == 200 and health.json()["replica"] == "unavailable"
    finally:
        standby.remove()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_postgresql_restart_under_load_loses_nothing_acknowledged(
        primary: PgServer, tmp_path: Path, running: list[Starlette], mode: str) -> None:
    _, url = await new_database(primary, tmp_path)
    app = create_app(settings_for(tmp_path, url))
    running.append(app)
    token = await agency_token(app)
    load = asyncio.create_task(mixed_load(app, token, f"restart-{mode}", 150, concurrency=6))
    await asyncio.sleep(2)
    await asyncio.to_thread(primary.stop, mode)
    async with client(app) as http:
        down = await http.get("/healthz")
        assert down.status_code == 503 and down.json()["database"] == "unavailable"
        await asyncio.sleep(2)
        await asyncio.to_thread(primary.start)
        for _ in range(100):  # the same app, never restarted, finds the database again
            if (await http.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the portal did not recover from the restart")
    acknowledged, statuses = await load
    assert 503 in statuses, "no request met the restart: the test proved nothing"
    assert set(statuses) <= {200, 201, 409, 503}, sorted(set(statuses))
    assert len(acknowledged) == 150
    stored = await stored_cases(url, list(acknowledged))
    assert {number: stored[number] for number, code in acknowledged.items() if code} == {
        number: code for number, code in acknowledged.items() if code}
    assert sorted(stored) == sorted(acknowledged)  # each registration stored, exactly once
