"""Signed webhooks for new submissions: the signature verifies with the procedure the API
documents (``portal.webhooks.verify``), tampering and stale timestamps are refused, a replayed
delivery is detected by its id, and the worker retries with back-off until the agency's
endpoint answers 2xx — against a real HTTP receiver on 127.0.0.1 started by the test."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from portal import webhooks
from portal.database import utcnow
from portal.errors import Unprocessable
from portal.models.jobs import Job
from portal.services import jobs, submissions
from portal.services import webhooks as registrations
from portal.services.agencies import NewClient
from portal.workers.submissions import JOBS, SubmissionDeps
from tests.conftest import Database
from tests.portal.cases.factories import filed, notified_case
from tests.portal.web.api.conftest import bearer, fetch_token

SECRET = "whsec_test-secret"
BODY = b'{"delivery_id":"d-1","event":"submission.created","submission":{}}'


def signed(body: bytes = BODY, *, at: int = 1_763_880_000, secret: str = SECRET) -> dict[str, str]:
    return {"X-Portal-Signature": webhooks.signature_header(secret, at, body),
            "X-Portal-Delivery-Id": "d-1"}


def test_a_signature_made_as_documented_verifies() -> None:
    # the procedure in the OpenAPI description, done by hand: HMAC-SHA256 over "t.body"
    by_hand = hmac.new(SECRET.encode(), b"1763880000." + BODY, hashlib.sha256).hexdigest()
    headers = {"x-portal-signature": f"t=1763880000,v1={by_hand}"}
    delivery = webhooks.verify(SECRET, headers, BODY, seen=set(), now=1_763_880_010)
    assert delivery.delivery_id == "d-1" and delivery.payload["event"] == "submission.created"


def test_tampering_a_wrong_secret_and_stale_timestamps_are_refused() -> None:
    now = 1_763_880_000
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.verify(SECRET, signed(), BODY.replace(b"d-1", b"d-2"), seen=set(), now=now)
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.verify("whsec_other", signed(), BODY, seen=set(), now=now)
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.verify(SECRET, {}, BODY, seen=set(), now=now)
    with pytest.raises(webhooks.TimestampOutOfRange):
        webhooks.verify(SECRET, signed(), BODY, seen=set(), now=now + 301)
    swapped = {**signed(), "X-Portal-Delivery-Id": "d-fresh"}  # a new id on an old body
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.verify(SECRET, swapped, BODY, seen=set(), now=now)


def test_a_replayed_delivery_is_detected_by_its_id() -> None:
    seen: set[str] = set()
    now = 1_763_880_000
    webhooks.verify(SECRET, signed(), BODY, seen=seen, now=now)
    resent = signed(at=now + 60)  # re-signed later (a retry), or captured and replayed: same id
    with pytest.raises(webhooks.DuplicateDelivery) as replay:
        webhooks.verify(SECRET, resent, BODY, seen=seen, now=now + 60)
    assert replay.value.delivery_id == "d-1" and seen == {"d-1"}


@dataclass
class Receiver:
    """A minimal HTTP/1.1 endpoint: records each request, answers the next queued status."""

    statuses: list[int]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.lower(): value for name, value in
                   (line.split(": ", 1) for line in head[1:] if ": " in line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(statuses=[500, 503, 200])
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/portal-hook"
    try:
        yield found
    finally:
        server.close()
        await server.wait_closed()


async def _job(database: Database) -> Job:
    async with database.sessions() as db:
        return (await db.execute(select(Job).where(Job.kind == submissions.WEBHOOK_JOB))).scalar_one()


async def test_each_submission_is_posted_signed_and_retried_until_2xx(
        app: Starlette, api: httpx.AsyncClient, database: Database, agency_a: NewClient,
        receiver: Receiver) -> None:
    token = await fetch_token(api, agency_a)
    registered = await api.put("/api/v1/webhook", json={"url": receiver.url}, headers=bearer(token))
    secret = registered.json()["secret"]
    case = await notified_case(database, "榕市监处罚〔2026〕310号", agency=agency_a.agency_name)
    statement = await filed(database, app.state.blobs, case, "请重新核实违法所得")
    deps = SubmissionDeps(database.sessions, app.state.notary, app.state.blobs,
                          app.state.settings.secret_key, development=True)

    later = utcnow()
    for attempt, answer in enumerate((500, 503), start=1):
        later += timedelta(hours=1)  # past any back-off, without waiting for it
        before = utcnow()
        await JOBS.run_due(deps, now=later)
        job = await _job(database)
        assert not job.done and job.attempts == attempt and job.last_error == f"HTTP {answer}"
        # backed off: a random pause of at most 5 s·2^(n-1) (jobs.POLICY), from the failure
        assert before <= job.next_attempt_at <= utcnow() + jobs.POLICY.ceiling(attempt)
    await JOBS.run_due(deps, now=later + timedelta(hours=1))
    assert (await _job(database)).done  # the 2xx ends it
    await JOBS.run_due(deps, now=later + timedelta(days=1))
    assert len(receiver.received) == 3  # and nothing is sent after

    seen: set[str] = set()
    first_headers, first_body = receiver.received[0]
    delivery = webhooks.verify(secret, first_headers, first_body, seen=seen)
    assert delivery.payload["submission"]["submission_id"] == statement.public_id
    assert first_headers["x-portal-event"] == "submission.created"
    for headers, body in receiver.received[1:]:  # retries: the same delivery, detected as such
        with pytest.raises(webhooks.DuplicateDelivery):
            webhooks.verify(secret, headers, body, seen=seen)
    assert json.loads(first_body)["submission"]["content"] == {"text": "请重新核实违法所得"}


async def test_an_acknowledged_submission_is_not_posted_again(
        app: Starlette, api: httpx.AsyncClient, database: Database, agency_a: NewClient,
        receiver: Receiver) -> None:
    token = await fetch_token(api, agency_a)
    await api.put("/api/v1/webhook", json={"url": receiver.url}, headers=bearer(token))
    case = await notified_case(database, "榕市监处罚〔2026〕311号", agency=agency_a.agency_name)
    statement = await filed(database, app.state.blobs, case)
    deps = SubmissionDeps(database.sessions, app.state.notary, app.state.blobs,
                          app.state.settings.secret_key, development=True)
    await JOBS.run_due(deps)  # answered 500
    await api.post(f"/api/v1/submissions/{statement.public_id}/acknowledgement", headers=bearer(token))
    await JOBS.run_due(deps, now=utcnow() + timedelta(hours=1))
    assert len(receiver.received) == 1 and (await _job(database)).done


async def test_a_name_that_now_resolves_inside_is_not_posted_to(
        app: Starlette, api: httpx.AsyncClient, database: Database, agency_a: NewClient) -> None:
    # A name registered while it pointed outside may later resolve to a cloud metadata
    # address: the worker checks before each POST and holds the delivery back, to retry.
    # SECURITY.md "Deployment configuration": SSRF (v5.0.0-12.6.x)
    token = await fetch_token(api, agency_a)
    url = "https://hooks.agency.example/portal"
    assert (await api.put("/api/v1/webhook", json={"url": url}, headers=bearer(token))).status_code == 200
    case = await notified_case(database, "榕市监处罚〔2026〕312号", agency=agency_a.agency_name)
    await filed(database, app.state.blobs, case)
    posted: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(204)

    answers = [["169.254.169.254"], ["100.100.100.200"], ["10.20.30.40", "fd00:ec2::254"],
               ["10.20.30.40"], ["127.0.0.1"]]
    resolved: list[str] = []

    async def resolve(host: str) -> list[str]:
        # DNS rebinding: each lookup may answer differently; the first answer after the
        # check must be the one connected to, whatever a second lookup would say
        resolved.append(host)
        return answers.pop(0)

    deps = SubmissionDeps(database.sessions, app.state.notary, app.state.blobs,
                          app.state.settings.secret_key, resolve=resolve,
                          http=lambda: httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    later = utcnow()
    for _ in range(3):  # metadata by link-local, Alibaba's, AWS's IPv6 beside a good address
        later += timedelta(hours=1)
        await JOBS.run_due(deps, now=later)
        job = await _job(database)
        assert not job.done and job.last_error == "address_refused" and posted == []
    await JOBS.run_due(deps, now=later + timedelta(hours=1))
    assert (await _job(database)).done and len(resolved) == 4  # resolved once per attempt
    [request] = posted  # sent to the checked address, under the registered name
    assert str(request.url) == "https://10.20.30.40/portal"
    assert request.headers["host"] == "hooks.agency.example"
    assert request.extensions["sni_hostname"] == "hooks.agency.example"  # the certificate's name


async def test_loopback_receivers_are_for_development_mode_only(
        app: Starlette, api: httpx.AsyncClient, database: Database, agency_a: NewClient,
        receiver: Receiver) -> None:
    # http://127.0.0.1:<any port>/<any path> used to be accepted in every configuration
    token = await fetch_token(api, agency_a)
    assert (await api.put("/api/v1/webhook", json={"url": receiver.url},
                          headers=bearer(token))).status_code == 200  # this app is development
    async with database.sessions() as db:
        with pytest.raises(Unprocessable):
            await registrations.register(db, agency_a.agency_id, receiver.url, secret_key="k" * 32,
                                         development=False)
    case = await notified_case(database, "榕市监处罚〔2026〕313号", agency=agency_a.agency_name)
    await filed(database, app.state.blobs, case)
    production = SubmissionDeps(database.sessions, app.state.notary, app.state.blobs,
                                app.state.settings.secret_key)  # development=False
    await JOBS.run_due(production)
    job = await _job(database)
    assert not job.done and job.last_error == "url_refused" and receiver.received == []
