"""Tables that anonymous requests fill are bounded: the worker prunes expired sessions (one per
``POST /login``), refused payment callbacks past their retention and old rate-limit windows, and
the rows anonymous traffic can write are limited per client (SECURITY.md "Deployment
configuration": tables filled by anonymous requests are bounded and pruned)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.database import transaction, utcnow
from portal.models.limits import RateLimitWindow
from portal.models.payments import PaymentSecurityEvent
from portal.models.sessions import WebSession
from portal.services import rate_limits
from portal.web.api import payment_callbacks
from portal.web.pages import login
from portal.workers.housekeeping import HousekeepingJob
from tests.conftest import Database, csrf_from


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_the_worker_prunes_expired_sessions_old_refusals_and_windows(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    for _ in range(3):  # three anonymous login starts: three session rows
        anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
        token = await csrf_from(anonymous, "/login")
        assert (await anonymous.post("/login", data={"csrf_token": token})).status_code == 303
    assert await _count(database, WebSession) == 3
    now = utcnow()
    async with transaction(database.sessions) as db:
        for days in (1, 179, 181):
            db.add(PaymentSecurityEvent(occurred_at=now - timedelta(days=days), platform="sandbox",
                                        reason="bad_signature", detail="-", body_sha256="0" * 64))
        await rate_limits.hit(db, rate_limits.Limit("t", 5, 60), "old", now - timedelta(days=2))
        await rate_limits.hit(db, rate_limits.Limit("t", 5, 60), "new", now)

    job = HousekeepingJob(database.sessions, app.state.settings, clock=lambda: now)
    pruned = await job.run_once()
    assert (pruned.web_sessions, pruned.security_events, pruned.rate_windows) == (0, 1, 1)
    assert await _count(database, PaymentSecurityEvent) == 2  # within 180 days stays
    assert await _count(database, RateLimitWindow) >= 1

    later = HousekeepingJob(database.sessions, app.state.settings,
                            clock=lambda: now + timedelta(minutes=31))  # past the idle timeout
    assert (await later.run_once()).web_sessions == 3
    assert await _count(database, WebSession) == 0
    assert (await later.run_once()).web_sessions == 0  # idempotent: a second worker's no-op


async def test_login_starts_are_limited_per_address(
        client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login, "LOGIN_STARTS", rate_limits.Limit("login_start", 2, 10**6))
    token = await csrf_from(client, "/login")
    statuses = [(await client.post("/login", data={"csrf_token": token})).status_code for _ in range(4)]
    assert statuses == [303, 303, 429, 429]


async def test_refused_callbacks_are_recorded_up_to_a_limit_per_address(
        client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payment_callbacks, "REFUSALS_RECORDED",
                        rate_limits.Limit("payment_refusals", 3, 10**6))
    for _ in range(6):  # forged: no signature
        refused = await client.post("/api/v1/payments/callbacks/sandbox", content=b"{}",
                                    headers={"content-type": "application/json"})
        assert refused.status_code == 401  # answered alike every time
    assert await _count(database, PaymentSecurityEvent) == 3


