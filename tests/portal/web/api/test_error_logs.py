"""A request that fails in the database leaves a log line with its request id and actor, and
none of the personal data it carried (an ID number was once seen in a logged SQL error).
SECURITY.md "Logging and audit", v5.0.0-16.2.1, 16.2.5."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from sqlalchemy import text
from starlette.applications import Starlette

from portal.logs import JsonFormatter
from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import PUBLIC_URL, bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE, OFFICERS

_PG_TRIGGER = (
    "CREATE FUNCTION refuse_parties() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'parties refused by the test'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER refuse_parties BEFORE INSERT ON parties FOR EACH ROW EXECUTE FUNCTION refuse_parties()",
)
_PG_DROP = ("DROP TRIGGER refuse_parties ON parties", "DROP FUNCTION refuse_parties()")
_SQLITE_TRIGGER = ("CREATE TRIGGER refuse_parties BEFORE INSERT ON parties "
                   "BEGIN SELECT RAISE(ABORT, 'parties refused by the test'); END",)
_SQLITE_DROP = ("DROP TRIGGER refuse_parties",)


@pytest_asyncio.fixture(loop_scope="session")
async def parties_refused(database: Database) -> AsyncIterator[None]:
    """The database refuses every new party: a real failure, raised by the server itself."""
    create, drop = ((_PG_TRIGGER, _PG_DROP) if database.backend == "postgresql"
                    else (_SQLITE_TRIGGER, _SQLITE_DROP))
    async with database.engine.begin() as connection:
        for statement in create:
            await connection.execute(text(statement))
    try:
        yield
    finally:
        async with database.engine.begin() as connection:
            for statement in drop:
                await connection.execute(text(statement))


@pytest_asyncio.fixture(loop_scope="session")
async def json_logs() -> AsyncIterator[io.StringIO]:
    """What the portal's log handler (``portal.logs.configure_logging``) would write."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield written
    finally:
        root.removeHandler(handler)


async def test_a_database_failure_logs_request_id_and_actor_but_no_personal_data(
        app: Starlette, api: httpx.AsyncClient, agency_a: NewClient, parties_refused: None,
        json_logs: io.StringIO) -> None:
    token = await fetch_token(api, agency_a)
    served = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as a server answers
    api = httpx.AsyncClient(transport=served, base_url=PUBLIC_URL)
    witness = {"kind": "person", "name": "欧阳明", "id_number": "110101199003074514"}
    body = {**NEW_CASE, "parties": [ZHANGSAN.api, witness], "matter": "欧阳明销售过期食品"}
    response = await api.post("/api/v1/cases", json=body, headers=bearer(token))
    assert response.status_code == 500 and response.json()["code"] == "internal_error"

    logged = json_logs.getvalue()
    for personal in ("35010219850312123X", "110101199003074514", "张三", "欧阳明",
                     OFFICERS[0]["name"], OFFICERS[0]["credential_number"]):
        assert personal not in logged, personal
    lines = [json.loads(line) for line in logged.splitlines()]
    [error] = [line for line in lines if line["message"] == "unhandled error"]
    assert error["request_id"] == response.json()["request_id"] == response.headers["x-request-id"]
    assert error["actor"].startswith(f"agency:{agency_a.agency_id}")
    assert error["path"] == "/api/v1/cases" and "exception" in error  # types and frames, no message
    assert "sqlalchemy" in error["exception"] and "parties refused" not in error["exception"]
