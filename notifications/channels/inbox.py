"""The in-portal notice (the bell): always on, stored by the portal, rendered here.

The notice is shown only after login, so its template may carry what e-mail and SMS may not
(document title, amount, hearing place). This library owns the text; the portal owns the table.
`InboxChannel` adapts a storage callable supplied by the portal to the `Channel` protocol, so
the worker can treat all channels alike and record the attempt the same way.

The store takes a batch of notices (one transaction for many), inserts each idempotently on
`dedupe_key` (a unique column) and returns each notice's id, the existing one on a repeat, so a
re-run job never shows a notice twice; that makes the channel a `BatchChannel`.
Errors from the store are the portal's database errors and propagate: its transaction decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from notifications.channels.base import DeliveryResult, Outgoing
from notifications.messages import Rendered

__all__ = ["InboxChannel", "InboxNotice", "NoticeStore"]


@dataclass(frozen=True)
class InboxNotice:
    """One notice for the party's bell; `title` and `body` are plain text, escape on display."""

    party: str
    title: str
    body: str
    template_version: int
    dedupe_key: str


NoticeStore = Callable[[Sequence[InboxNotice]], Awaitable[Sequence[str]]]
"""Stores notices idempotently on their dedupe keys and returns their ids, in order."""


class InboxChannel:
    """Hands rendered notices to the portal's store; `recipient` is the party reference."""

    def __init__(self, store: NoticeStore) -> None:
        self._store = store

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """Store the notice; it is delivered once the portal has it."""
        [result] = await self.send_many([Outgoing(rendered, recipient, dedupe_key)])
        return result

    async def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Store the notices in one call of the store."""
        notices = [_notice(item) for item in items]
        ids = await self._store(notices) if notices else []
        if len(ids) != len(notices):
            raise ValueError("the notice store must answer one id per notice")
        return [DeliveryResult.delivered(notice_id, "stored") for notice_id in ids]


def _notice(item: Outgoing) -> InboxNotice:
    if item.rendered.subject is None:
        raise ValueError("an in-portal notice needs a title")
    return InboxNotice(
        party=item.recipient,
        title=item.rendered.subject,
        body=item.rendered.body,
        template_version=item.rendered.template_version,
        dedupe_key=item.dedupe_key,
    )
