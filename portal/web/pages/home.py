"""The home page and the health check."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.web.rendering import render


async def home(request: Request) -> Response:
    return render(request, "pages/home.html")


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _reachable(engine: AsyncEngine) -> bool:
    """Within 3 s. The check itself is shielded from the timeout: a query cancelled half way
    would leave its connection in the pool in a state that fails the next request on it."""
    try:
        await asyncio.wait_for(asyncio.shield(_select_one(engine)), timeout=3)
    except Exception:  # any failure to reach the database is "unavailable"
        return False
    return True


async def healthz(request: Request) -> Response:
    """Liveness and database reachability for load balancers; 503 names the failing part. A
    read replica (``DATABASE_REPLICA_URL``) is reported but never makes the node unhealthy:
    the primary answers its reads while it is away."""
    body = {"status": "ok", "database": "ok"}
    if not await _reachable(request.app.state.engine):
        body = {"status": "error", "database": "unavailable"}
    if request.app.state.replica_engine is not None:
        body["replica"] = "ok" if await _reachable(request.app.state.replica_engine) else "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503,
                        headers={"cache-control": "no-store"})
