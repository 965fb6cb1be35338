"""Static files with versioned URLs: cached for a year where the URL names the content.

Pages link to ``static_url("portal.css")``, which is ``/static/portal.css?v=<digest>``: the
first 12 hex digits of the file's SHA-256. A request whose ``v`` is the file's current digest
is answered ``Cache-Control: public, max-age=31536000, immutable``: the browser never asks
again, and a changed file gets a new URL, so nobody sees a stale stylesheet. Anything else
(no ``v``, or one from before a deployment) is served ``no-cache`` and revalidated by ETag:
a stale URL must not pin today's content under yesterday's name for a year.

Digests are computed once per file version (keyed by size and modification time), so a
page render costs a ``stat`` per asset, and ``make run`` picks up an edited stylesheet on
the next page. Starlette's ``StaticFiles`` does the serving (ranges, ETag, 304).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.datastructures import QueryParams
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
MOUNT = "/static"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


class StaticAssets:
    """The files under one directory, their digests, and the ASGI app that serves them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.files = StaticFiles(directory=self.directory)
        self._digests: dict[str, tuple[int, int, str]] = {}

    def digest(self, name: str) -> str | None:
        """The current digest of ``name`` (relative to the directory); None if no such file."""
        path = (self.directory / name).resolve()
        if not path.is_relative_to(self.directory):
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        known = self._digests.get(name)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self._digests[name] = (stat.st_size, stat.st_mtime_ns, digest)
        return digest

    def url(self, name: str) -> str:
        """The versioned URL of ``name``; a missing file is a programming error."""
        digest = self.digest(name)
        if digest is None:
            raise FileNotFoundError(f"no static file {name!r}")
        return f"{MOUNT}/{name}?v={digest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self.files.get_path(scope)  # normalised by StaticFiles, relative
        wanted = QueryParams(scope.get("query_string", b"")).get("v")
        fresh = wanted is not None and wanted == self.digest(name)

        async def send_with_caching(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", IMMUTABLE if fresh else REVALIDATE))
                message["headers"] = headers
            await send(message)

        await self.files(scope, receive, send_with_caching)


assets = StaticAssets(STATIC_DIR)
"""The portal's own static files (``routes`` mounts them; templates call ``static_url``)."""
