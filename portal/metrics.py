"""Prometheus metrics of a running node, with the maintained client (``prometheus_client``).

Served at ``/metrics`` (``portal.web.metrics``) only to a scraper presenting ``METRICS_TOKEN``
as a bearer token; without that setting the route does not exist (404). The reverse proxy
refuses the path too (``deploy/nginx/portal.conf``): Prometheus scrapes each node directly,
on the monitoring network, never through the public listener.

Recorded by each process as things happen:

* ``portal_http_requests_total{method,route,status}`` and
  ``portal_http_request_duration_seconds{method,route}``: by the matched route's *pattern*
  (``/c/{code}``), never the path, which may hold a case code or a download link;
* ``portal_db_connections_in_use{engine}`` and ``portal_db_pool_size{engine}``: the
  connection pools (``app``, ``replica``, ``worker``);
* ``portal_verifications_in_progress`` (waiting for or running in a verification worker
  process) and ``portal_verification_workers_lost_total{reason}`` (``died``: the process
  ended mid-job; ``over_budget``: killed past its time budget; ``failed``).

With ``portal serve --workers N`` every process writes these to files under
``PROMETHEUS_MULTIPROC_DIR`` (the client's multiprocess mode, set by the command) and the
process that answers a scrape adds them up for the node.

Read from the shared database at each scrape, so every node reports the same cluster-wide
figures (``portal.services.backlog``, collected by ``portal.web.metrics``): ``portal_outbox_pending{status}``,
``portal_outbox_oldest_due_seconds``, ``portal_jobs_pending{kind}``,
``portal_jobs_oldest_pending_seconds{kind}``, ``portal_receipts_pending{receipt}`` and
``portal_receipts_oldest_pending_seconds{receipt}``; ``portal_database_up`` is 0 when that
read failed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CONTENT_TYPE", "observe_request", "render", "verification_worker_lost", "verifications",
           "watch_pool"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter("portal_http_requests_total", "HTTP requests answered, by route pattern and status",
                   ["method", "route", "status"])
LATENCY = Histogram("portal_http_request_duration_seconds", "Time to answer, by route pattern",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
DB_IN_USE = Gauge("portal_db_connections_in_use", "Database connections checked out of the pool",
                  ["engine"], multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("portal_db_pool_size", "Connections the pool keeps open (overflow excluded)",
                     ["engine"], multiprocess_mode="livesum")
VERIFICATIONS = Gauge("portal_verifications_in_progress",
                      "Uploaded files waiting for or in a verification worker process",
                      multiprocess_mode="livesum")
WORKERS_LOST = Counter("portal_verification_workers_lost_total",
                       "Verification worker processes lost mid-job, by reason", ["reason"])

_PID_FILE = re.compile(r"_(\d+)\.db$")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """Count ``engine``'s connections in use as they are checked out and back in."""
    pool: Any = engine.sync_engine.pool
    if callable(getattr(pool, "size", None)):
        DB_POOL_SIZE.labels(name).set(pool.size())
    in_use = DB_IN_USE.labels(name)
    event.listen(engine.sync_engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: in_use.dec())


def verifications() -> Any:
    """A context manager around one verification, waiting included."""
    return VERIFICATIONS.track_inprogress()


def verification_worker_lost(reason: str) -> None:
    WORKERS_LOST.labels(reason).inc()


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of processes that ended (a restarted server worker)."""
    pids = {int(m.group(1)) for p in directory.glob("*.db") if (m := _PID_FILE.search(p.name))}
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, str(directory))
        except PermissionError:
            continue  # alive, another user's


def render(cluster: Collector, multiprocess_dir: Path | None) -> bytes:
    """The exposition text: this node's processes, then ``cluster``'s figures."""
    if multiprocess_dir is not None:
        _forget_dead_processes(multiprocess_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(multiprocess_dir))
        recorded = generate_latest(registry)
    else:
        recorded = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(cluster)
    return recorded + generate_latest(extra)
