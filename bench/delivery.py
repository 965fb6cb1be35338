"""Benchmark of e-service deliveries end to end.

Run with ``.venv/bin/python bench/delivery.py [COUNT]`` (default 10,000). It creates its own
PostgreSQL database (``TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test as the
admin connection), migrates it, registers an agency, a case, a party and its consent, and
prints:

* deliveries per second through ``POST /api/v1/cases/{code}/deliveries`` (multipart upload of a
  1-page PDF sealed by the agency, seal validation in the notary's worker processes, consent
  check, content-addressed storage, arrival event) against a real ``portal serve`` process,
  8 concurrent clients over loopback HTTP, all to one party (its acts wait for each other:
  the lock of its evidence chain is held to the commit), then to 64 parties in turn, as a
  province's deliveries go;
* a bare Starlette JSON endpoint served the same way in the same run, and the ratio;
* for each side, the CPU one request cost the server process, its verification workers, the
  PostgreSQL backends and the clients (``harness.CpuUse``), and the rate that CPU would allow
  on this machine if every process kept every CPU busy: where the machine, not the portal,
  sets the limit;
* time per delivery excluding the seal validation (``services.deliveries.deliver`` called
  directly, one transaction each);
* the server's resident memory before and after COUNT deliveries (growth per 1,000).

The follow-up jobs (timestamps, receipts) are not run: they are the workers' business.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from bench.harness import (  # noqa: E402
    CONCURRENCY,
    agency_token,
    cpu_use,
    delivery_call,
    portal_and_bare,
    proc_status_mib,
    run_clients,
    scratch_database,
    sized,
)
from portal.blobstore.database import DatabaseBlobStore  # noqa: E402
from portal.database import create_engine, session_factory, transaction  # noqa: E402
from portal.models.cases import Case  # noqa: E402
from portal.models.parties import Party  # noqa: E402
from portal.services import agencies, deliveries  # noqa: E402
from tests.builders import RENDERER, credit_code, register_case, sealed_pdf, sign_consent  # noqa: E402
from tests.builders import case_world as world  # noqa: E402
from tests.conftest import Database  # noqa: E402
from tests.identities import numbered_person  # noqa: E402

PARTIES = 64
"""Parties the second figure delivers to in turn: a province's deliveries go to many parties,
and acts on one party wait for each other (its evidence chain's lock, held to the commit)."""

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def ok(request):
    await request.body()
    return JSONResponse({"status": "ok"}, status_code=201)
app = Starlette(routes=[Route("/x", ok, methods=["POST"])])
"""


async def main(count: int) -> None:
    async with scratch_database("bench_delivery") as url:
        engine = create_engine(url)
        try:
            await measure(Database("postgresql", url, engine, session_factory(engine)), count)
        finally:
            await engine.dispose()


async def consenting_parties(database: Database, agency_id: int, count: int
                             ) -> list[tuple[str, dict[str, str]]]:
    """``count`` more cases of the agency, each with a party of its own who consented to
    e-service: (case code, the party as the delivery API names it)."""
    made = []
    for n in range(count):
        person = numbered_person(n)
        built = await register_case(database, agency_id, f"榕市监处罚〔2026〕{1000 + n}号", person)
        await sign_consent(database, built.party_ids[0])
        made.append((built.code, {"id_number": person.id_number}))
    return made


async def measure(database: Database, count: int) -> None:
    """Register the agency, case and consent, start the servers and print the figures."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    w = await world(database)
    await sign_consent(database, w.party_id)
    parties = await consenting_parties(database, w.agency_id, sized(PARTIES, 4))
    async with transaction(database.sessions) as db:
        # the agency's seal is matched by its unified social credit code, not its name
        client = await agencies.create_client(db, "福州市市场监督管理局", credit_code("福州市市场监督管理局"))
    document = await sealed_pdf(data_dir, client.agency_name)

    async with portal_and_bare(database.url, data_dir, BARE_APP) as servers:
        base = servers.portal_url
        token = await agency_token(base, client.client_id, client.client_secret)
        deliver = delivery_call(base, token, w.case_code, {"id_number": "35010219850312123X"}, document)

        async def bare_call(http: httpx.AsyncClient, n: int) -> int:
            response = await http.post(servers.bare_url,
                                       files={"document": ("d.pdf", document, "application/pdf")})
            return response.status_code

        await run_clients(sized(50, 2), deliver, 201)  # warm-up: worker processes, connection pools
        before = proc_status_mib(servers.portal.pid, "VmRSS")
        cpu_before = await cpu_use(servers.portal.pid, database.url)
        portal_seconds = await run_clients(count, deliver, 201)
        portal_cpu = await cpu_use(servers.portal.pid, database.url) - cpu_before
        after = proc_status_mib(servers.portal.pid, "VmRSS")
        bare_count = min(count, 5000)
        cpu_before = await cpu_use(servers.bare_pid)
        bare_seconds = await run_clients(bare_count, bare_call, 201)
        bare_cpu = await cpu_use(servers.bare_pid) - cpu_before

        direct: list[float] = []
        async with database.sessions() as db:
            case = await db.get(Case, w.case_id)
            party = await db.get(Party, w.party_id)
        assert case and party
        blobs = DatabaseBlobStore(database.engine)  # what a PostgreSQL deployment stores into
        for n in range(sized(300, 3)):
            request = deliveries.DeliveryRequest("行政处罚决定书", f"直接 {n}", document, None)
            started = time.perf_counter()
            async with transaction(database.sessions) as db:
                await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                                         fingerprint=request.fingerprint(case.code, "p"), actor="bench",
                                         renderer=RENDERER)
            direct.append(time.perf_counter() - started)

        calls = [delivery_call(base, token, code, party, document) for code, party in parties]

        async def deliver_spread(http: httpx.AsyncClient, n: int) -> int:
            return await calls[n % len(calls)](http, n)

        cpu_before = await cpu_use(servers.portal.pid, database.url)
        spread_seconds = await run_clients(count, deliver_spread, 201)
        spread_cpu = await cpu_use(servers.portal.pid, database.url) - cpu_before

        portal_rate, bare_rate = count / portal_seconds, bare_count / bare_seconds
        spread_rate = count / spread_seconds
        print(f"deliveries through the API:      {portal_rate:8.1f} /s  ({count} deliveries, "
              f"{CONCURRENCY} clients, PostgreSQL)")
        print(f"bare Starlette endpoint:          {bare_rate:8.1f} /s  (same upload, same clients)")
        print(f"ratio portal / bare:              {portal_rate / bare_rate:8.3f}")
        print(f"the same, to {len(parties)} parties in turn:   {spread_rate:8.1f} /s  "
              f"(ratio {spread_rate / bare_rate:.3f})")
        print(portal_cpu.report("delivery (one party)", count))
        print(spread_cpu.report(f"delivery ({len(parties)} parties)", count))
        print(bare_cpu.report("bare request", bare_count))
        print(f"per delivery without seal check:  {statistics.median(direct) * 1000:8.2f} ms median, "
              f"p95 {sorted(direct)[int(len(direct) * 0.95)] * 1000:.2f} ms")
        print(f"server RSS:                       {before:8.1f} MiB before, {after:.1f} MiB after "
              f"({(after - before) / count * 1000:+.2f} MiB per 1,000 deliveries)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else sized(10_000, 10)))
