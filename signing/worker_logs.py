"""How a verification worker process logs: one JSON object per line, with nothing from the file.

An uploaded file is personal data: a certificate's subject is a person's name, a signature
field can be named anything, an exception raised while parsing repeats what it choked on. So
the worker writes, for every record of any logger (pyhanko's included), only the time, level,
logger, the message *template* (``"signature %s could not be validated"``, never its
arguments) and the exception's type names, and nothing at all below WARNING: plain text
would carry certificate subject names from uploaded files into the logs.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["configure_worker_logging"]


class _TemplateOnly(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
            "process": "verification-worker",
        }
        if record.exc_info and record.exc_info[1] is not None:
            exc: BaseException | None = record.exc_info[1]
            kinds: list[str] = []
            while exc is not None and len(kinds) < 20:
                kinds.append(f"{type(exc).__module__}.{type(exc).__qualname__}")
                exc = exc.__cause__ or exc.__context__
            entry["exception"] = kinds
        return json.dumps(entry, ensure_ascii=False)


def configure_worker_logging() -> None:
    """Replace the worker's log handlers with one JSON handler on stderr, WARNING and up."""
    handler = logging.StreamHandler()
    handler.setFormatter(_TemplateOnly())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
