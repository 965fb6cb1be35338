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
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from portal import metrics
from portal.database import utcnow
from portal.errors import NotFound
from portal.services import backlog

log = logging.getLogger("portal.metrics")


class BacklogCollector(Collector):
    """The cluster-wide figures of one scrape (None: the database could not be read)."""

    def __init__(self, backlog: backlog.Backlog | None) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("portal_database_up", "1 when this scrape could read the database")
        up.add_metric([], 0 if self.backlog is None else 1)
        yield up
        if self.backlog is None:
            return
        b = self.backlog
        outbox = GaugeMetricFamily("portal_outbox_pending", "Notifications not yet delivered, by status",
                                   labels=["status"])
        for status in ("created", "sending", "temporary-failure"):
            outbox.add_metric([status], b.outbox.get(status, 0))
        yield outbox
        yield GaugeMetricFamily("portal_outbox_oldest_due_seconds",
                                "How long the oldest due notification has waited",
                                value=b.outbox_oldest_due_seconds)
        jobs = GaugeMetricFamily("portal_jobs_pending", "Follow-up jobs not done, by kind", labels=["kind"])
        ages = GaugeMetricFamily("portal_jobs_oldest_pending_seconds", "Age of the oldest job not done",
                                 labels=["kind"])
        for kind, waiting in sorted(b.jobs.items()):
            jobs.add_metric([kind], waiting.count)
            ages.add_metric([kind], waiting.oldest_seconds)
        yield jobs
        yield ages
        receipts = GaugeMetricFamily("portal_receipts_pending", "Receipts still to issue", labels=["receipt"])
        receipt_ages = GaugeMetricFamily("portal_receipts_oldest_pending_seconds",
                                         "Age of the oldest receipt still to issue", labels=["receipt"])
        for name, waiting in sorted(b.receipts().items()):
            receipts.add_metric([name], waiting.count)
            receipt_ages.add_metric([name], waiting.oldest_seconds)
        yield receipts
        yield receipt_ages


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
    body = await asyncio.to_thread(metrics.render, BacklogCollector(waiting), settings.metrics_dir)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})
