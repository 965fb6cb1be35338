"""The home page and the health check."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.web.rendering import render


async def home(request: Request) -> Response:
    return render(request, "pages/home.html", private=False)


async def _reachable(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(3), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
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
