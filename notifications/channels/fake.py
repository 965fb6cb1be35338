"""A channel for tests: it records what it is given and fails when told to.

It honours the same contract tests as the real channels: a delivered message has a provider
id derived from the dedupe key (so a re-send answers the same id and is recorded once, like the
sandbox gateway), a rejected recipient is a permanent failure, and `fail_next` rehearses an
outage with temporary failures. `wait_for` lets a test await deliveries made by a worker
running in the background instead of sleeping.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from notifications.channels.base import DeliveryResult, message_reference
from notifications.errors import ChannelUnavailable, DeliveryError, RecipientRejected
from notifications.messages import Rendered

__all__ = ["FakeChannel", "FakeDelivery"]


@dataclass(frozen=True)
class FakeDelivery:
    """One message the fake accepted."""

    recipient: str
    rendered: Rendered
    dedupe_key: str
    provider_message_id: str


class FakeChannel:
    """Records deliveries in `sent`; counts every call in `attempts`."""

    def __init__(self) -> None:
        self.sent: list[FakeDelivery] = []
        self.attempts = 0
        self._failures: list[DeliveryError] = []
        self._rejected: set[str] = set()
        self._by_key: dict[str, FakeDelivery] = {}
        self._changed = asyncio.Condition()

    def fail_next(self, times: int, error: DeliveryError | None = None) -> None:
        """Fail the next `times` calls with `error` (by default a temporary outage)."""
        failure = error if error is not None else ChannelUnavailable("fake channel unavailable")
        self._failures.extend([failure] * times)

    def reject(self, recipient: str) -> None:
        """From now on, refuse `recipient` permanently."""
        self._rejected.add(recipient)

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """Record the message, or fail as told."""
        self.attempts += 1
        if self._failures:
            return DeliveryResult.failed(self._failures.pop(0))
        if recipient in self._rejected:
            return DeliveryResult.failed(RecipientRejected("fake channel rejects this recipient"))
        delivery = self._by_key.get(dedupe_key)
        if delivery is None:
            delivery = FakeDelivery(
                recipient, rendered, dedupe_key, f"fake-{message_reference(dedupe_key)}"
            )
            self._by_key[dedupe_key] = delivery
            async with self._changed:
                self.sent.append(delivery)
                self._changed.notify_all()
        return DeliveryResult.delivered(delivery.provider_message_id, "recorded")

    async def wait_for(self, count: int) -> list[FakeDelivery]:
        """Wait until at least `count` messages were delivered; return the first `count`."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.sent) >= count)
            return self.sent[:count]
