"""SMS through an HTTP SMS gateway, with httpx.

The gateway contract (what `notifications.channels.sms_sandbox` implements, and what an adapter
for a provincial or commercial gateway must map onto):

    POST <url>
    Authorization: Bearer <api key>
    {"to": "<mobile number>", "sender_id": "...", "signature": "<签名>", "text": "...",
     "reference": "<opaque id derived from the dedupe key>"}

    2xx {"id": "<gateway message id>"}   accepted; the same reference again answers the same id
    422 {"error": "invalid_recipient"}   the number is not a mobile number
    4xx                                  the request is wrong (401/403: our credentials)
    429, 5xx                             try again later

The gateway answering a repeated reference with the same id is what lets the worker send a
batch (`send_many`) before it records the results: a batch sent again after a crash is
recognised there, not delivered to the handset twice.

Mapping: a timeout, a connection error, 408, 429 or 5xx is temporary; 401/403 is our
misconfiguration; 422 invalid_recipient is a rejected recipient; any other 4xx is a rejected
message. The body is sent without the subject: SMS has none. The signature (短信签名) is a
separate field because Chinese gateways require a registered signature and add it themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from notifications.channels.base import DeliveryResult, Outgoing, message_reference
from notifications.errors import (
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryError,
    MessageRejected,
    RecipientRejected,
)
from notifications.messages import Rendered

__all__ = ["HttpSmsChannel", "SmsGatewayConfig"]

# Only a machine error code from the gateway goes into the log line, never free text that
# could echo the number.
_ERROR_CODE = re.compile(r"[a-z0-9_.-]{1,40}")


@dataclass(frozen=True)
class SmsGatewayConfig:
    """Where the gateway is and who we are to it; checked on construction."""

    url: str
    api_key: str = field(repr=False)
    sender_id: str
    signature_name: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ChannelMisconfigured("SMS gateway url must be an http(s) URL")
        if not self.api_key:
            raise ChannelMisconfigured("SMS gateway api_key is required")
        if not self.sender_id or not 2 <= len(self.signature_name) <= 20:
            raise ChannelMisconfigured("SMS sender_id and a 2-20 character signature are required")
        if not self.timeout > 0:
            raise ChannelMisconfigured("SMS gateway timeout must be positive")


class HttpSmsChannel:
    """Sends one SMS per call through the gateway; use as an async context manager or aclose().

    `transport` replaces the network (an `httpx.ASGITransport` around the sandbox gateway for
    the embedded default and for tests).
    """

    def __init__(
        self, config: SmsGatewayConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=config.timeout,
            headers={"Authorization": f"Bearer {config.api_key}"},
            follow_redirects=False,
        )

    async def __aenter__(self) -> HttpSmsChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """POST the message to the gateway once and read its answer."""
        payload = {
            "to": recipient,
            "sender_id": self.config.sender_id,
            "signature": self.config.signature_name,
            "text": rendered.body,
            "reference": message_reference(dedupe_key),
        }
        try:
            response = await self._client.post(self.config.url, json=payload)
        except httpx.TimeoutException:
            return DeliveryResult.failed(ChannelUnavailable("SMS gateway timed out"))
        except httpx.TransportError as exc:
            return DeliveryResult.failed(
                ChannelUnavailable(f"SMS gateway unreachable: {type(exc).__name__}")
            )
        if response.is_success:
            return DeliveryResult.delivered(_gateway_id(response), f"HTTP {response.status_code}")
        return DeliveryResult.failed(_classify(response))

    async def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """POST each message in turn over the client's kept-alive connections."""
        return [await self.send(item.rendered, item.recipient, dedupe_key=item.dedupe_key)
                for item in items]


def _json_field(response: httpx.Response, name: str) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _gateway_id(response: httpx.Response) -> str | None:
    """The gateway's id for the message; a 2xx without one still means accepted."""
    return _json_field(response, "id")


def _classify(response: httpx.Response) -> DeliveryError:
    """Map a non-2xx answer onto our tree. Only the status and the error code are kept."""
    status = response.status_code
    error = _json_field(response, "error")
    if error is not None and not _ERROR_CODE.fullmatch(error):
        error = None
    detail = f"HTTP {status}" + (f" {error}" if error else "")
    if status < 400:
        # A redirect: the configured URL is not the gateway's API endpoint.
        return ChannelMisconfigured(detail, status_code=status)
    if status in (408, 429):
        return DeliveryDeferred(detail, status_code=status)
    if status >= 500:
        return ChannelUnavailable(detail, status_code=status)
    if status in (401, 403):
        return ChannelMisconfigured(detail, status_code=status)
    if error == "invalid_recipient":
        return RecipientRejected(detail, status_code=status)
    return MessageRejected(detail, status_code=status)
