"""Every node the same, all state shared: three ``portal serve`` processes with
separate DATA_DIRs behind nginx (``deploy/nginx/portal.conf``) on one PostgreSQL database.

A document delivered through one node is read through another; a login made through the proxy
is valid on every node; rate limits count across nodes; a node killed during a burst of
deliveries loses nothing that was acknowledged, and the agency's retries with the same
Idempotency-Key give exactly one delivery each (DESIGN.md "Scale"; SECURITY.md "Reliability
battery"). A node of several server processes (``portal serve --workers 2``) reports all of
them in each scrape of its metrics.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import transaction
from portal.models import Delivery, Party
from portal.services import agencies, consent, evidence
from tests.builders import credit_code, register_case, sealed_pdf, sign_consent
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import METRICS_TOKEN, Node, node_env
from tests.conftest import CSRF_RE
from tests.identities import ZHANGSAN
from tests.portal.web.login_flow import log_in
from tests.s3_server import free_port

pytestmark = pytest.mark.cluster
AGENCY = "福州市市场监督管理局"


def browser(cluster: Cluster) -> httpx.AsyncClient:
    trusted = ssl.create_default_context(cafile=str(cluster.proxy.cert))
    return httpx.AsyncClient(base_url=cluster.proxy.url, verify=trusted, timeout=60)


def direct(node: Node, cookie: str | None = None) -> httpx.AsyncClient:
    """Straight to one node, as nginx would reach it (plain HTTP, the proxy's headers)."""
    headers = {"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7"}
    if cookie:
        headers["cookie"] = cookie
    return httpx.AsyncClient(base_url=node.url, headers=headers, timeout=60)


async def api_token(cluster: Cluster) -> tuple[int, str]:
    """A new agency API client and its bearer token, issued through the proxy."""
    async with transaction(cluster.database.sessions) as db:
        client = await agencies.create_client(db, AGENCY, credit_code(AGENCY))
    async with browser(cluster) as http:
        answer = await http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                                 auth=(client.client_id, client.client_secret))
    assert answer.status_code == 200, answer.text
    return client.agency_id, answer.json()["access_token"]


async def served_case(cluster: Cluster, agency_id: int, number: str) -> str:
    """zhangsan (logged in once, so his party exists) with consent and a case of the agency."""
    await sign_consent(cluster.database, await party_id(cluster))
    return (await register_case(cluster.database, agency_id, number, ZHANGSAN)).code


async def party_id(cluster: Cluster) -> int:
    async with cluster.database.sessions() as db:
        return (await db.execute(select(Party.id).where(Party.id_number == ZHANGSAN.id_number))).scalar_one()


async def waiting_on(db: AsyncSession, node: Node) -> bool:
    """Whether a session of ``node`` waits for a lock now (PostgreSQL keeps what
    ``pg_stat_activity`` showed for the rest of the transaction unless told to forget it)."""
    await db.execute(text("SELECT pg_stat_clear_snapshot()"))
    ports = set((await db.execute(text(
        "SELECT client_port FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"))).scalars())
    return bool(ports & node.database_ports())


def delivery_form(document: bytes, title: str) -> dict[str, tuple[str | None, bytes | str, str]]:
    metadata = {"document_type": "行政处罚决定书", "title": title, "party": {"id_number": ZHANGSAN.id_number}}
    return {"document": ("decision.pdf", document, "application/pdf"),
            "metadata": (None, json.dumps(metadata, ensure_ascii=False), "application/json")}


async def session_cookie(cluster: Cluster) -> str:
    async with browser(cluster) as http:
        response = await log_in(http, "zhangsan")
        assert response.status_code == 303, response.text
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


async def test_a_login_through_the_proxy_is_valid_on_every_node(cluster: Cluster) -> None:
    cookie = await session_cookie(cluster)
    for node in cluster.nodes:
        async with direct(node, cookie) as http:
            page = await http.get("/account")
        assert page.status_code == 200, (node.name, page.status_code)
        assert "张三" in page.text, node.name
    async with direct(cluster.nodes[2]) as anonymous:
        assert (await anonymous.get("/account")).status_code in (302, 303, 401)


async def test_a_document_delivered_through_one_node_is_read_through_another(cluster: Cluster) -> None:
    cookie = await session_cookie(cluster)
    agency_id, token = await api_token(cluster)
    code = await served_case(cluster, agency_id, "榕市监罚〔2026〕1601号")
    document = await sealed_pdf(cluster.dev_keys, AGENCY)  # the agency's seal, from the shared PKI
    node_a, node_b = cluster.nodes[0], cluster.nodes[1]
    async with direct(node_a) as http:
        created = await http.post(f"/api/v1/cases/{code}/deliveries",
                                  files=delivery_form(document, "处罚决定书（经 A 送达）"),
                                  headers={"authorization": f"Bearer {token}", "idempotency-key": "via-a-1"})
    assert created.status_code == 201, created.text
    delivery_id = created.json()["delivery_id"]
    async with direct(node_b, cookie) as http:
        state = await http.get(f"/api/v1/deliveries/{delivery_id}",
                               headers={"authorization": f"Bearer {token}"})
        assert state.status_code == 200 and state.json()["delivery_id"] == delivery_id
        path = f"/mailbox/{delivery_id}"
        page = await http.get(path)
        assert page.status_code == 200 and "处罚决定书（经 A 送达）" in page.text
        csrf = CSRF_RE.search(page.text)
        assert csrf
        download = await http.post(f"{path}/document", data={"csrf_token": csrf.group(1)})
    assert download.status_code == 200
    assert download.content == document  # the very bytes node A stored, read by node B


async def test_rate_limits_count_across_nodes(cluster: Cluster) -> None:
    # SECURITY.md "Business logic": 30 case lookups a minute per client, however many nodes.
    # 61 lookups, 20 or 21 on each node, span at most two fixed windows: counted per node they
    # would all pass; counted once for the cluster, some must be refused.
    statuses = []
    for n in range(61):
        async with direct(cluster.nodes[n % 3]) as http:
            statuses.append((await http.get("/c/XXXXXXXXXX")).status_code)
    assert set(statuses) == {404, 429}, statuses
    assert statuses.count(404) <= 60


async def test_metrics_are_for_the_scraper_only(cluster: Cluster) -> None:
    async with direct(cluster.nodes[1]) as http:
        assert (await http.get("/metrics")).status_code == 401
        scraped = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert 'portal_http_requests_total{method="GET",route="/healthz",status="200"}' in scraped.text
    assert "portal_database_up 1.0" in scraped.text
    async with browser(cluster) as http:  # the proxy does not pass it on
        assert (await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
                ).status_code == 404


def _samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


async def _scrape(node: Node) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One scrape on a new connection: whichever server process accepts it answers."""
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        answer = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    return _samples(answer.text)


HEALTHZ_OK = ("portal_http_requests_total",
              frozenset({("method", "GET"), ("route", "/healthz"), ("status", "200")}))
APP_POOL = ("portal_db_pool_size", frozenset({("engine", "app")}))


async def _until_pool_is(node: Node, size: float) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Scrapes until the node's processes' app pools add up to ``size`` (each process builds
    its app, and so its pool, when it has started; a dead one's is forgotten)."""
    for _ in range(300):
        scraped = await _scrape(node)
        if scraped.get(APP_POOL) == size:
            return scraped
        await asyncio.sleep(0.2)
    raise AssertionError(f"the app pools never added up to {size}: {scraped.get(APP_POOL)}")


def _processes(node: Node, kind: str = "*") -> set[int]:
    """The server processes that wrote metrics of ``kind`` (``counter``: those that answered a
    request) into the node's multiprocess folder, one file per kind and process."""
    return {int(path.stem.rsplit("_", 1)[1]) for path in (node.data_dir / "metrics").glob(f"{kind}_*.db")}


async def test_a_node_of_several_server_processes_reports_them_all(cluster: Cluster, tmp_path: Path
                                                                  ) -> None:
    # `portal serve --workers 2`: a scrape, whichever process answers it, counts every
    # process's requests and pools; a process that died and was replaced is neither lost from
    # the counts nor counted twice in the pools
    port = free_port()
    node = Node("w", port, tmp_path, node_env(cluster.database.url, tmp_path, port,
                                              public_url=f"https://127.0.0.1:{cluster.proxy.https_port}",
                                              dev_keys=cluster.dev_keys, DATABASE_POOL_SIZE="3"),
                workers=2)
    try:
        node.start()
        before = (await _until_pool_is(node, 6)).get(HEALTHZ_OK, 0)  # both processes up

        async def health() -> int:
            async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:  # a connection each
                return (await http.get("/healthz")).status_code

        assert set(await asyncio.gather(*(health() for _ in range(40)))) == {200}
        answering = _processes(node, "counter")
        assert len(answering) == 2, answering  # both processes answered requests
        for _ in range(6):  # each scrape, by either process, has the node's total
            assert (await _scrape(node))[HEALTHZ_OK] == before + 40

        os.kill(min(answering), signal.SIGKILL)  # uvicorn's supervisor starts another
        checks = 40
        for _ in range(60):  # until the new process answers requests too (its app is up)
            if _processes(node, "counter") - answering:
                break
            assert set(await asyncio.gather(*(health() for _ in range(10)))) == {200}
            checks += 10
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("no server process replaced the one killed; the node's log ends:\n"
                                 + node.log.read_text(errors="replace")[-4000:])
        scraped = await _scrape(node)
        assert scraped[APP_POOL] == 6  # 3 + 3: the dead process's pool is forgotten
        assert scraped[HEALTHZ_OK] == before + checks  # and its requests are still counted
    finally:
        node.stop()


async def test_killing_a_node_during_a_burst_loses_nothing_acknowledged(cluster: Cluster) -> None:
    agency_id, token = await api_token(cluster)
    code = await served_case(cluster, agency_id, "榕市监罚〔2026〕1602号")
    document = await sealed_pdf(cluster.dev_keys, AGENCY)
    keys = [f"burst-{n:03d}" for n in range(40)]
    acknowledged: dict[str, str] = {}
    first_try: Counter[str] = Counter()
    started = asyncio.Event()

    async def deliver(http: httpx.AsyncClient, key: str) -> httpx.Response | None:
        try:
            return await http.post(f"/api/v1/cases/{code}/deliveries",
                                   files=delivery_form(document, f"决定书 {key}"),
                                   headers={"authorization": f"Bearer {token}", "idempotency-key": key})
        except httpx.TransportError:
            return None

    async def agency_sends(queue: asyncio.Queue[str]) -> None:
        async with browser(cluster) as http:
            while not queue.empty():
                key = queue.get_nowait()
                answer = await deliver(http, key)
                first_try["ok" if answer is not None and answer.status_code == 201 else "failed"] += 1
                if answer is not None and answer.status_code == 201:
                    acknowledged[key] = answer.json()["delivery_id"]
                    if len(acknowledged) >= 8:
                        started.set()

    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)
    senders = [asyncio.create_task(agency_sends(queue)) for _ in range(6)]
    await asyncio.wait_for(started.wait(), timeout=300)
    # Node A dies with a request in flight, inside its transaction: the test holds the
    # party's chain lock, so every delivery waits for it, until one waits on node A (another
    # sender joins every second until nginx's round robin sends one there); then A is killed
    # and the lock let go. A delivery takes ~0.1 s: a kill at a random moment may fall between
    # A's requests and prove nothing.
    async with transaction(cluster.database.sessions) as db:
        await evidence.lock(db, consent.party_chain(await party_id(cluster)))
        for tick in range(600):
            if await waiting_on(db, cluster.nodes[0]):
                break
            if tick % 10 == 9 and not queue.empty():
                senders.append(asyncio.create_task(agency_sends(queue)))
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no delivery reached node A")
        await asyncio.to_thread(cluster.nodes[0].kill)
    await asyncio.gather(*senders)

    # The agency retries whatever was not acknowledged, with the same key, through the proxy.
    async with browser(cluster) as http:
        for key in keys:
            if key in acknowledged:
                continue
            for _attempt in range(5):
                answer = await deliver(http, key)
                if answer is not None and answer.status_code == 201:
                    acknowledged[key] = answer.json()["delivery_id"]
                    break
                await asyncio.sleep(1)
        # an acknowledged delivery repeated gives the same delivery, not a second one
        again = await deliver(http, keys[0])
        assert again is not None and again.json()["delivery_id"] == acknowledged[keys[0]]

    assert sorted(acknowledged) == keys
    async with cluster.database.sessions() as db:
        rows = (await db.execute(select(Delivery.idempotency_key, func.count())
                                 .where(Delivery.idempotency_key.in_(keys))
                                 .group_by(Delivery.idempotency_key))).all()
        stored = dict((await db.execute(select(Delivery.idempotency_key, Delivery.public_id)
                                        .where(Delivery.idempotency_key.in_(keys)))).all())
    assert {key: count for key, count in rows} == dict.fromkeys(keys, 1)  # exactly one each
    assert stored == acknowledged  # every acknowledged delivery is the one stored
    assert first_try["failed"] >= 1, "the kill hit no request in flight: the test proved nothing"
