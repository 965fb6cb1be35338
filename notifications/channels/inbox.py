"""The in-portal notice (the bell): always on, stored by the portal, rendered here.

The notice is shown only after login, so its template may carry what e-mail and SMS may not
(document title, amount, hearing place). This library owns the text; the portal owns the table.
`InboxChannel` adapts a storage callable supplied by the portal to the `Channel` protocol, so
the worker can treat all channels alike and record the attempt the same way.

The store should insert the notice idempotently on `dedupe_key` (a unique column) and return
the notice's id, the existing one on a repeat, so a re-run job never shows a notice twice.
Errors from the store are the portal's database errors and propagate: its transaction decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from notifications.channels.base import DeliveryResult
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


NoticeStore = Callable[[InboxNotice], Awaitable[str]]
"""Stores a notice idempotently on its dedupe key and returns the notice's id."""


class InboxChannel:
    """Hands rendered notices to the portal's store; `recipient` is the party reference."""

    def __init__(self, store: NoticeStore) -> None:
        self._store = store

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """Store the notice; it is delivered once the portal has it."""
        if rendered.subject is None:
            raise ValueError("an in-portal notice needs a title")
        notice = InboxNotice(
            party=recipient,
            title=rendered.subject,
            body=rendered.body,
            template_version=rendered.template_version,
            dedupe_key=dedupe_key,
        )
        return DeliveryResult.delivered(await self._store(notice), "stored")
