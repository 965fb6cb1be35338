"""The database engines of a configured portal: the primary, and the read replica if any.

``portal.database`` knows how to make an engine for a URL; this module knows which URL and
which pool the settings ask for (``DATABASE_POOL_SIZE``, ``DATABASE_MAX_OVERFLOW``,
``DATABASE_TRANSACTION_POOLING``), so the app, the workers and every command open the same
kind of engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from portal.database import create_engine
from portal.settings import Settings


def open_engine(settings: Settings, url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """The engine of ``settings``' database (or of ``url``: its replica), with the configured
    pool size and pooler mode."""
    if not settings.is_sqlite:
        kwargs.setdefault("pool_size", settings.database.pool_size)
        kwargs.setdefault("max_overflow", settings.database.max_overflow)
    return create_engine(url or settings.database_url,
                         transaction_pooling=settings.database.transaction_pooling, **kwargs)
