"""A party's PDF attachments are untrusted input: parsed in the verification workers, never in
the web process, and refused from their outline when built to be slow (SECURITY.md
"Uploads and PDFs"). On the old code a 9 MB file whose last line was one line took pyHanko
about ten seconds in a thread of the web process, and two such uploads pushed ``/healthz`` to
seven seconds."""

from __future__ import annotations

import asyncio
import time

import httpx
from starlette.applications import Starlette

from tests.conftest import Database
from tests.portal.cases.factories import notified_case, pdf, post_form
from tests.portal.web.login_flow import log_in
from tests.signing.hostile import long_last_line, many_revisions

TOO_COMPLEX = "第2个附件的PDF结构异常或过于复杂"


async def test_hostile_attachments_are_refused_quickly_while_healthz_answers(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕301号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    await app.state.notary.verify(pdf())  # the workers started before anything is timed
    uploads = [
        [pdf(), long_last_line(pdf(), 9_000_000)],
        [pdf(), many_revisions(pdf(), 20_000)],
    ]
    latencies: list[float] = []
    done = asyncio.Event()

    async def health() -> None:
        while not done.is_set():
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)

    async def submit(files: list[bytes]) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        answer = await post_form(client, path, {"text": "证据见附件"}, files=[
            ("attachments", (f"证据{n}.pdf", data, "application/pdf")) for n, data in enumerate(files)])
        return answer, time.perf_counter() - started

    watcher = asyncio.create_task(health())
    try:
        answers = await asyncio.gather(*(submit(files) for files in uploads))
    finally:
        done.set()
        await watcher
    for answer, seconds in answers:
        assert answer.status_code == 422 and TOO_COMPLEX in answer.text
        assert seconds < 5.0
    assert latencies and max(latencies) < 1.0


async def test_a_good_pdf_attachment_is_opened_by_the_workers(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕302号")
    await log_in(client, "zhangsan")
    before = app.state.notary._runner
    answer = await post_form(client, f"/cases/{case.code}/statement", {"text": "证据见附件"},
                             files=[("attachments", ("证据.pdf", pdf(), "application/pdf"))])
    assert answer.status_code == 303
    runner = app.state.notary._runner
    assert before is None and runner is not None and runner._idle  # a worker opened it
    assert sum(worker.jobs for worker in runner._idle) >= 1
