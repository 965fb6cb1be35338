"""The sandbox SMS gateway: the embedded default, recording what it would send.

It speaks the gateway contract documented in `notifications.channels.sms` as a tiny ASGI app
(no framework, so this library stays free of Starlette), so the real `HttpSmsChannel` talks to
it over HTTP: in-process (`sandbox_channel`), or served by
uvicorn as a stand-in for the outside gateway. The contract tests run the same suite against it
and against the fake channel. Like the real gateways it checks the API key, refuses numbers
that are not mainland mobile numbers, and answers a repeated reference with the same id.
`fail_next` makes it answer with an error status, to rehearse outages.

Records live in memory (`sent`) and, when `record_to` is given, are appended to a JSON-lines
file so a developer can read them from another process. They contain phone numbers: this is a
development tool and never points at real parties.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from notifications.channels.sms import HttpSmsChannel, SmsGatewayConfig

__all__ = ["SANDBOX_PATH", "SandboxSms", "SandboxSmsGateway", "sandbox_channel"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SANDBOX_PATH = "/messages"
_MAX_BODY = 64 * 1024
_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
_FIELDS = ("to", "sender_id", "signature", "text", "reference")


@dataclass(frozen=True)
class SandboxSms:
    """One SMS the sandbox accepted and would have sent."""

    id: str
    to: str
    sender_id: str
    signature: str
    text: str
    reference: str
    received_at: datetime


class SandboxSmsGateway:
    """An ASGI app implementing the SMS gateway contract and keeping what it receives."""

    def __init__(self, api_key: str, *, record_to: Path | None = None) -> None:
        self.api_key = api_key
        self._authorization = f"Bearer {api_key}".encode()
        self._record_to = record_to
        self._by_reference: dict[str, SandboxSms] = {}
        self._failures: list[int] = []
        self.sent: list[SandboxSms] = []

    def fail_next(self, times: int, *, status: int = 503) -> None:
        """Answer the next `times` authorised requests with `status` instead of accepting."""
        self._failures.extend([status] * times)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        status, body = await self._handle(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, str]]:
        if scope["path"] != SANDBOX_PATH:
            return 404, {"error": "not_found"}
        if scope["method"] != "POST":
            return 405, {"error": "method_not_allowed"}
        headers = dict(scope["headers"])
        if not hmac.compare_digest(headers.get(b"authorization", b""), self._authorization):
            return 401, {"error": "unauthorized"}
        raw = await _read_body(receive)
        if raw is None:
            return 413, {"error": "too_large"}
        if self._failures:
            return self._failures.pop(0), {"error": "sandbox_failure"}
        try:
            request = json.loads(raw)
        except ValueError:
            return 400, {"error": "bad_request"}
        if not isinstance(request, dict) or not all(
            isinstance(request.get(name), str) and request[name] for name in _FIELDS
        ):
            return 400, {"error": "bad_request"}
        if not _MOBILE.fullmatch(request["to"]):
            return 422, {"error": "invalid_recipient"}
        if len(request["text"]) > 500 or not 2 <= len(request["signature"]) <= 20:
            return 422, {"error": "invalid_message"}
        earlier = self._by_reference.get(request["reference"])
        if earlier is not None:
            return 200, {"id": earlier.id}
        sms = SandboxSms(
            id=f"sandbox-{secrets.token_hex(8)}",
            received_at=datetime.now(UTC),
            **{name: request[name] for name in _FIELDS},
        )
        self._by_reference[sms.reference] = sms
        self.sent.append(sms)
        if self._record_to is not None:
            # Written on the event loop: appending one line takes microseconds, a hop to a
            # thread and back costs the worker more than the whole rest of the request.
            _append_line(self._record_to, sms)
        return 202, {"id": sms.id}


def _append_line(path: Path, sms: SandboxSms) -> None:
    line = json.dumps(asdict(sms), default=str, ensure_ascii=False)
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None once it exceeds the limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop; answer the server's lifespan events."""
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _InProcessTransport(httpx.AsyncBaseTransport):
    """Hands each request to the gateway app in this process, as ``httpx.ASGITransport`` does.

    httpx's own transport tries ``import sniffio`` on every request to find out whether it runs
    under trio; without sniffio installed, that failed import searches the whole path each time
    and costs the worker more than the gateway's answer. The sandbox runs under asyncio only.
    """

    def __init__(self, app: SandboxSmsGateway) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = request.url
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method, "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": url.scheme, "path": url.path, "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query, "server": (url.host, url.port),
            "client": ("127.0.0.1", 0), "root_path": "",
        }
        delivered = False

        async def receive() -> MutableMapping[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return httpx.Response(status, headers=headers, content=b"".join(parts))


def sandbox_channel(
    gateway: SandboxSmsGateway,
    *,
    sender_id: str = "sandbox",
    signature_name: str = "行政执法平台",
) -> HttpSmsChannel:
    """The real HTTP client wired to the sandbox in-process: the embedded default."""
    config = SmsGatewayConfig(
        url=f"http://sms-sandbox.invalid{SANDBOX_PATH}",
        api_key=gateway.api_key,
        sender_id=sender_id,
        signature_name=signature_name,
    )
    return HttpSmsChannel(config, transport=_InProcessTransport(gateway))
