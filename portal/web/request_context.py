"""A request id for every request and every log line, and one access-log line per request.

The id comes from ``X-Request-Id`` when a trusted proxy set a sane one, otherwise it is
generated; it is echoed in the response and shown on error pages so a citizen can quote it. An error no
handler took is logged here, with the request id and the actor, and answered with the 500
page or problem document (no message, no stack trace leaves the process).

The access line names the route's pattern (``/verify/reports/{report_id}``), not the path:
a path parameter can be a case code, a working download link or a party's document id, and
logs are kept longer and read by more people than the data they describe.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import metrics
from portal.logs import actor_var, request_id_var
from portal.web.errors import send_error, unexpected

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("portal.access")
error_log = logging.getLogger("portal.errors")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, trust_incoming_id: bool = False) -> None:
        self.app = app
        self.trust_incoming_id = trust_incoming_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if self.trust_incoming_id and _SANE_ID.match(incoming) else None
        request_id = request_id or secrets.token_hex(8)
        id_token = request_id_var.set(request_id)
        actor_token = actor_var.set("-")
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # logged and answered here, where the request id and the actor are still set (the
            # 500 page carries the id, the log line both)
            if responded:
                error_log.exception("unhandled error", extra={"method": scope["method"],
                                                              "path": logged_path(scope)})
                raise  # a response already under way can only be cut off
            await send_error(scope, send_with_id, unexpected(exc, method=scope["method"],
                                                             path=logged_path(scope)))
        finally:
            seconds = time.perf_counter() - started
            route = logged_path(scope)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            metrics.observe_request(scope["method"], route, status, seconds)
            request_id_var.reset(id_token)
            actor_var.reset(actor_token)


def logged_path(scope: Scope) -> str:
    """The matched route's pattern (a mount's, such as ``/static``, followed by ``/…``); for a
    path no route matched, a fixed word, since what someone typed there can be anything."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/…"
    path = getattr(route, "path", None)
    if isinstance(route, BaseRoute) and isinstance(path, str):
        return path
    return "(no route)"
