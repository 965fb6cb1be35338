"""The instant a request acts at: the real clocks, unless a test pinned one.

Publicity windows run for months and years (FJ art. 21), so their tests cannot wait: they set
``app.state.clock`` (``create_app`` leaves it None) and every publicity page and API call then
acts at that instant. Production never sets it: legal acts take the database clock
(``database_now``) and public reads the process clock.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request

from portal.database import utcnow


def pinned_now(request: Request) -> datetime | None:
    """The pinned instant, or None: the service then reads the database clock."""
    clock = request.app.state.clock
    return clock() if clock is not None else None


def request_now(request: Request) -> datetime:
    """The pinned instant, or the process clock (for reads: what is public now)."""
    return pinned_now(request) or utcnow()
