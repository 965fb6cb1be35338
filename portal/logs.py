"""Structured logs: one JSON object per line, each with UTC time, the request id and the actor.

Only what is passed in ``extra`` under a known key is written, so a careless call cannot put
a name, an ID number or a document into the logs (SECURITY.md, "Logging and audit"). An
exception is written as its types and stack frames, never its message: a database error's
message carries the statement's values (asyncpg: "invalid input for query argument $1:
'35010219…'"), a signature error a certificate's subject name. The engine hides SQL
parameters too (``portal.database``), for whatever else prints those messages.
"""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
"""The request being served (set by ``portal.web.request_context``); "-" in the CLI and workers."""
actor_var: ContextVar[str] = ContextVar("actor", default="-")
"""Who acts (``account:7``, ``agency:3/client:…``), set once authentication has said so."""

ALLOWED_EXTRA = frozenset({
    "method", "path", "status", "duration_ms", "code", "action", "object", "agency_id",
    "client_id", "count", "attempt", "job", "reason",
})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "actor": actor_var.get(),
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k in ALLOWED_EXTRA})
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = exception_outline(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


def exception_outline(exc: BaseException) -> str:
    """The exception's type, its causes' types and the frames it passed through, without any
    message (messages carry the data that caused them)."""
    lines: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(lines) < 200:
        kind = type(current)
        lines.append(f"{kind.__module__}.{kind.__qualname__}")
        lines += [f"  {frame.filename}:{frame.lineno} in {frame.name}"
                  for frame in traceback.extract_tb(current.__traceback__)]
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("caused by:")
    return "\n".join(lines)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    for chatty in ("fontTools", "httpx"):  # font subsetting and every outgoing request at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
