"""Fixtures of ``make test-cluster``: three portal nodes behind nginx on one PostgreSQL database.

The cluster is started once per module (starting a node is seconds of imports); each test
leaves it as it found it, except the last one of ``test_nodes.py``, which kills a node.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from portal.database import create_engine, session_factory
from tests.cluster.nodes import Node, Proxy, new_proxy, node_env
from tests.conftest import Database, _pg_admin_url
from tests.s3_server import free_port

ROOT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    nodes: list[Node]
    proxy: Proxy
    database: Database
    dev_keys: Path


def migrate(database_url: str, data_dir: Path) -> None:
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "PATH": ""}
    subprocess.run([sys.executable, "-m", "portal.cli", "db", "upgrade"], cwd=ROOT_DIR, env=env,
                   check=True, capture_output=True, timeout=300)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster_database_url() -> AsyncIterator[str]:
    """A new database on the shared server (nothing here restarts or reconfigures it)."""
    admin_url = _pg_admin_url()
    admin = await asyncpg.connect(admin_url, timeout=10)
    name = f"portal_cluster_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="portal-cluster-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster(cluster_database_url: str, workdir: Path) -> AsyncIterator[Cluster]:
    dev_keys = workdir / "shared-dev-keys"
    dev_keys.mkdir()
    migrate(cluster_database_url, workdir / "migrate")
    proxy = new_proxy()
    nodes = []
    for name in ("a", "b", "c"):
        data_dir = workdir / f"node-{name}"
        data_dir.mkdir()
        port = free_port()
        nodes.append(Node(name, port, data_dir, node_env(cluster_database_url, data_dir, port,
                                                         public_url=f"https://127.0.0.1:{proxy.https_port}",
                                                         dev_keys=dev_keys)))
    engine = create_engine(cluster_database_url)
    try:
        for node in nodes:
            node.start(with_jobs=node.name != "a")  # jobs run on b and c side by side
        proxy.start(nodes)
        yield Cluster(nodes, proxy, Database("postgresql", cluster_database_url, engine,
                                             session_factory(engine)), dev_keys)
    finally:
        proxy.stop()
        for node in nodes:
            node.stop()
        await engine.dispose()
