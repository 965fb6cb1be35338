"""Request size limits (ASVS v5.0.0-5.1.1): refuse early on Content-Length, count when streamed.

A declared length over the limit is answered 413 before any byte is read; a chunked body is
counted as it arrives and the read fails with ``PayloadTooLarge`` once over the limit, which
the error handlers turn into the same 413 page or problem document.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.errors import PayloadTooLarge
from portal.web.errors import send_error


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await send_error(scope, send, PayloadTooLarge())
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge()
            return message

        await self.app(scope, counting_receive, send)
