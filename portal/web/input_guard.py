"""Text the database cannot store is refused at the edge, with a 400, not a 500 from the driver.

PostgreSQL's ``text`` cannot hold NUL (U+0000) and asyncpg raises on a lone surrogate
(U+D800-U+DFFF, which JSON's ``\\ud800`` escapes can produce); SQLite stores both, so the two
databases would disagree on what was filed (PITFALLS.md "PostgreSQL text"). Fields of a
body are read by ``portal.fields`` (422 ``invalid_character``); what no field reader sees is
refused here: ``InputGuardMiddleware`` in the path (``/api/v1/cases/x%00``) and the query
string of every request, and the CSRF check in url-encoded forms. Each answers 400
``invalid_text`` (problem details under ``/api/``, a Chinese page elsewhere).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.errors import BadRequest
from portal.web.errors import send_error


def storable(text: str) -> bool:
    """No NUL and no lone surrogate: text both databases store as given."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def invalid_text() -> BadRequest:
    return BadRequest(code="invalid_text")


class InputGuardMiddleware:
    """Refuse a NUL in the decoded path or an escaped one (``%00``) in the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (not storable(scope["path"])
                                        or b"%00" in scope.get("query_string", b"")):
            await send_error(scope, send, invalid_text())
            return
        await self.app(scope, receive, send)
