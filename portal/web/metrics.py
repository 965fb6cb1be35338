"""``GET /metrics``: the node's Prometheus metrics (``portal.metrics``), for the scraper only.

Without ``METRICS_TOKEN`` the route answers 404, like any path that does not exist; with it, a
request must carry ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time), or it
gets 401. The backlog figures come from one short read of the database; when that read fails
the answer still comes, with ``portal_database_up 0``: a scrape is how an operator learns that
the database is gone.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from starlette.requests import Request
from starlette.responses import Response

from portal import metrics
from portal.database import utcnow
from portal.errors import NotFound
from portal.services import backlog

log = logging.getLogger("portal.metrics")


async def scrape(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token is None:
        raise NotFound()
    presented = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(presented, f"Bearer {settings.metrics_token}".encode()):
        return Response(status_code=401, headers={"www-authenticate": "Bearer", "cache-control": "no-store"})
    waiting: backlog.Backlog | None
    try:
        async with asyncio.timeout(5), request.app.state.sessions() as db:
            waiting = await backlog.backlog(db, utcnow())
    except Exception:  # any failure to read is "database down" in the figures, not a 500
        log.warning("metrics: the backlog could not be read", exc_info=True)
        waiting = None
    body = await asyncio.to_thread(metrics.render, waiting, settings.metrics_dir)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})
