"""Schemathesis over ``/api/v1/openapi.json`` against the portal served by a real uvicorn on
127.0.0.1, on both databases (SECURITY.md "Reliability battery":
no 5xx, every response matches the schema). Every operation gets valid cases (POSITIVE) and
cases that break its schema (NEGATIVE), authenticated as a real agency; the number per
operation is bounded (``FUZZ_CASES``, default 6) so ``make test`` stays fast. A larger run:
``FUZZ_CASES=500 .venv/bin/pytest tests/portal/web/api/test_fuzz.py``. The hand-written hostile
cases (multipart parts, NUL in path ids and bodies) are in ``test_hostile_input.py``."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.applications import Starlette

from portal.services.agencies import NewClient
from tests.portal.web.api.conftest import fetch_token

CASES = int(os.environ.get("FUZZ_CASES", "6"))


@pytest_asyncio.fixture(loop_scope="session")
async def served(app: Starlette) -> AsyncIterator[str]:
    """The app behind a real HTTP server on a free port (the same app object as ``api``)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off",
                                           log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _fuzz(base_url: str, token: str) -> tuple[list[str], Counter[int]]:
    """Run every operation; the failures, one line each (an empty list is the pass), and how
    many answers of each status came back (a run that reached nothing proves nothing)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the schema describes this operation in a way no client can use
            failures.append(f"unusable operation: {result.err()}")
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                     timeout=60)
                statuses[response.status_code] += 1
                assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
                case.validate_response(response, checks=[response_schema_conformance])

            try:
                run()
            except Exception as exc:  # a failing case: record it and go on with the others
                failures.append(f"{operation.label} [{mode.value}]: {str(exc).splitlines()[0][:400]}")
    return failures, statuses


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
        served: str, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    failures, statuses = await asyncio.to_thread(_fuzz, served, token)
    assert not failures, "\n".join(failures)
    assert sum(statuses.values()) >= 100 and statuses[200] + statuses[201] >= 10, statuses
