"""Test fixtures shared by the whole suite: both databases, an app per test, an HTTP client.

Where a test goes: ``tests/<package path>/`` is the twin of the package whose code the test
drives, the outermost layer it goes through deciding: over HTTP, the route modules'
``tests/portal/web/pages/`` (server-rendered pages) or ``tests/portal/web/api/`` (the agency
API), and ``tests/portal/web/`` for what every route gets (headers, sessions, the login's
relying party, the authorisation matrix); a job in ``tests/portal/workers/``; a service with a
database in ``tests/portal/services/``; plain functions in their package's twin
(``tests/portal/cases/``, ``tests/portal/publicity/`` ...), a root module's in
``tests/portal/test_<module>.py``. ``tests/browser`` and ``tests/cluster`` are suites by kind:
each drives the whole portal (chromium; several processes) with fixtures of its own.
Helpers (factories, flows) sit beside the tests that use them most; a fixture lives in the
conftest of the nearest directory shared by its users. ``tests/test_architecture.py`` fails on a
test directory that is no package's twin.

Every database test runs against SQLite and PostgreSQL (``database`` is parametrised). Each
backend gets its own database for the test session, built by running the Alembic migrations;
each test is isolated by emptying every table afterwards (tests that commit from many
connections at once need real commits, so a rolled-back outer transaction would not do).

`make test` runs the suite in several processes (pytest-xdist): each is a test session of its
own, with its own databases, development PKI and SoftHSM token, so tests never share state across
processes; nothing here may use a fixed port or path.

PostgreSQL: ``TEST_DATABASE_URL`` or 127.0.0.1:5432/test. When it cannot be reached the
PostgreSQL variants are skipped, unless ``REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which
turns that into a failure.

PKCS#11: ``softhsm_token`` is one SoftHSM token for the whole session (SoftHSM sees the tokens
that exist when a process first loads it, so the signing and the portal tests share one),
holding seals of its own CA, ``hsm_pki``. Without Debian's ``softhsm2`` its tests are skipped,
unless ``REQUIRE_SOFTHSM=1`` (set by ``.ci/run``), which turns that into a failure.

Fonts: the tests of Chinese documents need Debian's CJK fonts (``make test`` installs them).
Without them those tests are skipped (``font_missing``), unless ``REQUIRE_FONTS=1`` (set by
``.ci/run``), which turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal import schema
from portal.app import create_app
from portal.blobstore import BlobStore
from portal.blobstore.database import DatabaseBlobStore
from portal.blobstore.files import FileBlobStore
from portal.database import Base, create_engine, session_factory
from portal.notary import PKI_DIR
from portal.settings import Settings, load_settings
from signing import Credential, DevPki, KeyAlgorithm, open_dev_pki
from tests.signing.softhsm import SoftHsmToken, create_token, softhsm_missing

ROOT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
HSM_PORTAL_NAME = "福建省行政执法服务平台"
CSRF_RE = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([^"]+)"')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cluster", action="store_true",
                     help="also run tests/cluster (make test-cluster): nodes, nginx, PgBouncer, replicas")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``tests/cluster`` takes minutes and servers of its own: only with ``--cluster``."""
    if collection_path.name == "cluster" and not config.getoption("--cluster"):
        return True
    return None


@dataclass
class Database:
    backend: str
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def _pg_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_database_url() -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    admin_url = _pg_admin_url()
    try:
        admin = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        yield None
        return
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(3)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.db'}"


_migrated: set[str] = set()


async def _empty_all_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            # the portal refuses TRUNCATE of legal records (migration 0080); the suite, as the
            # superuser, switches triggers off for its own cleanup only
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            await connection.execute(text(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        return
    # SQLite: one script in one call; a statement per table, each a hop to aiosqlite's thread,
    # cost more (~150 ms under load) than most tests' own work
    script = "".join(f'DELETE FROM "{table}";' for table in tables)
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None, "an open connection has its aiosqlite connection"
        await driver.executescript(f"BEGIN;{script}COMMIT;")


@pytest_asyncio.fixture(params=["sqlite", "postgresql"], loop_scope="session")
async def database(request: pytest.FixtureRequest, sqlite_database_url: str,
                   pg_database_url: str | None) -> AsyncIterator[Database]:
    backend = request.param
    url = sqlite_database_url if backend == "sqlite" else pg_database_url
    if url is None:
        pytest.skip("PostgreSQL not reachable (set REQUIRE_POSTGRES=1 to fail instead)")
    engine = create_engine(url)
    if url not in _migrated:
        await schema.upgrade(engine)
        _migrated.add(url)
    try:
        yield Database(backend, url, engine, session_factory(engine))
    finally:
        await _empty_all_tables(engine)
        await engine.dispose()


@pytest.fixture(scope="session")
def shared_dev_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of one development PKI for the whole session, generated on first use by the
    notary (``portal.notary.development_services``, which then keeps it loaded per folder)."""
    return tmp_path_factory.mktemp("dev-pki")


@pytest.fixture
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A fresh ``DATA_DIR`` per test. Its ``pki`` is the session's development PKI: generating
    one (RSA and SM2 CAs, TSA, seals) costs seconds, and every test that seals or verifies made
    its own. The PKI issues an agency's seal once per credit code, so a test that seals under a
    code with a name other than the code's usual one is marked ``own_dev_pki`` and gets its own.
    """
    path = tmp_path / "data"
    path.mkdir()
    if request.node.get_closest_marker("own_dev_pki") is None:
        shared = request.getfixturevalue("shared_dev_pki")
        (path / PKI_DIR).symlink_to(shared, target_is_directory=True)
    return path


def make_settings(database_url: str, data_dir: Path, **env: str) -> Settings:
    return load_settings({"DATABASE_URL": database_url, "DATA_DIR": str(data_dir),
                          "PUBLIC_URL": "http://testserver", **env})


@pytest.fixture
def settings(database: Database, data_dir: Path) -> Settings:
    return make_settings(database.url, data_dir)


@pytest_asyncio.fixture(loop_scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    try:
        yield application
    finally:  # what the lifespan would do at shutdown (ASGITransport does not run it)
        await application.state.notary.aclose()
        await application.state.engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def run_cli(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the real ``portal`` command (as an operator would) against the test database."""
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "PATH": os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "portal.cli", *args]
    return await asyncio.to_thread(subprocess.run, command, cwd=ROOT_DIR, env=env,
                                   capture_output=True, text=True, timeout=120)


async def overwrite_blob(store: BlobStore, digest: str, data: bytes) -> None:
    """Replace the bytes stored under ``digest`` behind the store's back, as a failing disk or
    a superuser's UPDATE (going round the table's immutability trigger) would."""
    if isinstance(store, FileBlobStore):
        store.path(digest).write_bytes(data)
        return
    if not isinstance(store, DatabaseBlobStore):
        raise TypeError(f"cannot damage a {store.name} store from here")
    async with store.engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text("UPDATE blobs SET data = :data WHERE sha256 = :digest"),
                                 {"data": data, "digest": digest})


async def csrf_from(http: httpx.AsyncClient, path: str = "/") -> str:
    """The CSRF token a page hands the browser (the hidden field every form carries)."""
    page = await http.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def font_missing(package: str) -> NoReturn:
    """Skip the test that needs Debian's font ``package``, or fail it under ``REQUIRE_FONTS=1``."""
    message = f"Debian's {package} is not installed (make test installs it)"
    if os.environ.get("REQUIRE_FONTS") == "1":
        pytest.fail(f"{message}; REQUIRE_FONTS=1 requires it")
    pytest.skip(f"{message}; set REQUIRE_FONTS=1 to fail instead")


@pytest.fixture(scope="session")
def hsm_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """The CA of the seals in ``softhsm_token`` (it stands for the production CA)."""
    return open_dev_pki(tmp_path_factory.mktemp("hsm-pki"), portal_name=HSM_PORTAL_NAME)


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory, hsm_pki: DevPki) -> SoftHsmToken:
    """A SoftHSM token with the keys ``portal-seal`` (RSA), ``agency-ec`` (EC P-256) and
    ``mismatched`` (the portal seal's certificate over another RSA key), and the CA certificates;
    ``SOFTHSM2_CONF`` of this process points at it from now on."""
    missing = softhsm_missing()
    if missing:
        if os.environ.get("REQUIRE_SOFTHSM") == "1":
            pytest.fail(f"softhsm2 is required (REQUIRE_SOFTHSM=1) but missing: {missing}")
        pytest.skip(f"softhsm2 missing ({missing}); set REQUIRE_SOFTHSM=1 to fail instead")
    portal = hsm_pki.portal_seal()
    agency_ec = hsm_pki.agency_seal("厦门市思明区城市管理局", "11350203MB0000002Y", KeyAlgorithm.EC_P256)
    other_rsa = hsm_pki.agency_seal("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
    seals = {
        "portal-seal": portal,
        "agency-ec": agency_ec,
        "mismatched": Credential(portal.certificate, other_rsa.private_key, portal.chain),
    }
    return create_token(tmp_path_factory.mktemp("softhsm"), "portal-hsm", "hsm-user-pin-1234", seals)
