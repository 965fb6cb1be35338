"""The home page and the health check."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.web.rendering import render


async def home(request: Request) -> Response:
    return render(request, "pages/home.html", private=False)


async def healthz(request: Request) -> Response:
    """Liveness and database reachability for load balancers; 503 names the failing part."""
    try:
        async with asyncio.timeout(3), request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "unavailable"
        return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503,
                            headers={"cache-control": "no-store"})
    return JSONResponse({"status": "ok", "database": "ok"}, headers={"cache-control": "no-store"})
