"""What every channel promises: rendered text in, a `DeliveryResult` out.

A channel is stateless from the caller's point of view: it takes one rendered message, one
recipient address and the message's dedupe key, tries once, and answers with a result value.
It never retries and never raises for a delivery failure (it returns the typed error inside the
result), so the worker can record the attempt and ask `RetryPolicy` what to do next.

A `BatchChannel` also takes several messages in one call (`send_many`). Only a channel whose
receiver recognises a repeated reference implements it (the portal's notice store, an SMS
gateway answering a known reference with the same id, a sandbox keeping one file per key):
the worker records a batch's results together, so a crash before that record sends the whole
batch again, which such a receiver absorbs. Where a repeat would reach the person twice
(SMTP), the worker records each send before it starts the next.

`DeliveryStatus` doubles as the status column of the portal's outbox:
created → sending → delivered / temporary-failure / permanent-failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from notifications.errors import DeliveryError, PermanentFailure, TemporaryFailure
from notifications.messages import Rendered

__all__ = [
    "BatchChannel",
    "Channel",
    "DeliveryResult",
    "DeliveryStatus",
    "Outgoing",
    "message_reference",
]


class DeliveryStatus(StrEnum):
    """Where a message stands; the last three are what one attempt can end in."""

    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one attempt on one channel.

    `provider_message_id` is what the other side calls the message (the SMTP Message-ID, the
    gateway's id, the portal's notice id); `detail` is a log-safe line without the recipient's
    address. On failure `error` holds the typed error; it is not part of equality.
    """

    status: DeliveryStatus
    provider_message_id: str | None = None
    detail: str = ""
    error: DeliveryError | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        failed = self.status in (DeliveryStatus.TEMPORARY_FAILURE, DeliveryStatus.PERMANENT_FAILURE)
        if failed != (self.error is not None):
            raise ValueError("a failed result needs an error and a delivered one must not have one")
        if self.status in (DeliveryStatus.CREATED, DeliveryStatus.SENDING):
            raise ValueError(f"an attempt cannot end in {self.status}")

    @classmethod
    def delivered(cls, provider_message_id: str | None, detail: str = "") -> DeliveryResult:
        """The other side accepted the message (a relay or gateway, not yet the handset)."""
        return cls(DeliveryStatus.DELIVERED, provider_message_id, detail)

    @classmethod
    def failed(cls, error: DeliveryError) -> DeliveryResult:
        """A failed attempt; temporary or permanent follows from the error's class."""
        if isinstance(error, TemporaryFailure):
            status = DeliveryStatus.TEMPORARY_FAILURE
        elif isinstance(error, PermanentFailure):
            status = DeliveryStatus.PERMANENT_FAILURE
        else:
            raise TypeError("a delivery error must be a TemporaryFailure or a PermanentFailure")
        return cls(status, None, error.detail, error)

    @property
    def reason(self) -> str | None:
        """The error's stable code for the outbox row, or None when delivered."""
        return self.error.code if self.error is not None else None

    def raise_for_status(self) -> None:
        """Raise the typed error of a failed attempt; do nothing when delivered."""
        if self.error is not None:
            raise self.error


@runtime_checkable
class Channel(Protocol):
    """One way of reaching a party: e-mail, SMS, the portal's own notice list, or a fake.

    `recipient` is the channel's address (an e-mail address, a mobile number, the portal's
    party reference). `dedupe_key` is the message's dedupe key (event id + channel); channels
    derive their idempotency reference from it, so a re-send after an unclear outcome is
    recognisable on the other side (delivery is at-least-once).
    """

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """Try once to deliver `rendered` to `recipient`; never raise for delivery failures."""
        ...


@dataclass(frozen=True)
class Outgoing:
    """One message of a `send_many` call: what `Channel.send` takes as its arguments."""

    rendered: Rendered
    recipient: str
    dedupe_key: str


@runtime_checkable
class BatchChannel(Channel, Protocol):
    """A channel that delivers several messages per call, for receivers that absorb repeats.

    `send_many` answers one result per item, in order, and never raises for a delivery
    failure, like `send`. Implement it only when a repeated `dedupe_key` (after a crash
    between sending and recording) does not reach the person a second time.
    """

    async def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Try once to deliver each item; one result per item, in order."""
        ...


def message_reference(dedupe_key: str) -> str:
    """An opaque, fixed-length reference for the other side, derived from the dedupe key.

    Hashing keeps event ids and channel names out of headers and gateway logs while a re-send
    of the same message still carries the same reference.
    """
    if not dedupe_key:
        raise ValueError("dedupe_key must not be empty")
    return hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
