"""The channels a worker sends with, built from settings, with safe embedded defaults.

- E-mail: SMTP when ``SMTP_HOST`` is set. Otherwise nothing leaves the machine: each e-mail is
  written, exactly as it would go on the wire, to ``DATA_DIR/mail-sandbox/<reference>.eml``
  (open it with any mail client), and the worker says so in its log at start.
- SMS: the configured HTTP gateway when ``SMS_GATEWAY_URL`` is set. Otherwise the library's
  sandbox gateway runs in-process behind the real HTTP client and appends what it would send
  to ``DATA_DIR/sms-sandbox.jsonl``.
- In-portal notice: always, stored through ``portal.services.notices`` in its own transaction.

The sandbox files hold addresses and numbers: they are development tools, like the demo data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import (
    Channel,
    ChannelKind,
    DeliveryResult,
    HttpSmsChannel,
    InboxChannel,
    InboxNotice,
    NoticeStore,
    Outgoing,
    RecipientRejected,
    Rendered,
    SandboxSmsGateway,
    SmtpChannel,
    SmtpConfig,
    TlsMode,
    sandbox_channel,
)
from notifications.channels.base import message_reference
from portal.database import transaction
from portal.services import notices
from portal.settings import Settings
from portal.workers.notifications import Clock

log = logging.getLogger("portal.workers.channels")

MAIL_SANDBOX_DIR = "mail-sandbox"
SMS_SANDBOX_FILE = "sms-sandbox.jsonl"


class MailSandboxChannel:
    """Writes each e-mail to a file instead of sending it; one file per dedupe key, so an
    e-mail written again after a crash replaces its copy (a `BatchChannel`)."""

    def __init__(self, directory: Path, from_address: str) -> None:
        self.directory = directory
        # Composing is the SMTP channel's own code: the file is what the wire would carry.
        self._composer = SmtpChannel(
            SmtpConfig(host="localhost", port=25, from_address=from_address, tls=TlsMode.NONE)
        )

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        [result] = await self.send_many([Outgoing(rendered, recipient, dedupe_key)])
        return result

    async def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Compose every e-mail, then write them all in one trip to a thread."""
        results: list[DeliveryResult] = []
        files: list[tuple[str, bytes]] = []
        for item in items:
            try:
                message = self._composer.compose(item.rendered, item.recipient,
                                                 dedupe_key=item.dedupe_key)
            except (ValueError, IndexError):
                results.append(DeliveryResult.failed(
                    RecipientRejected("recipient is not a usable address")))
                continue
            files.append((f"{message_reference(item.dedupe_key)}.eml",
                          self._composer.wire(message)))
            results.append(DeliveryResult.delivered(self._composer.message_id(message),
                                                    "written to the mail sandbox"))
        if files:
            await asyncio.to_thread(_write_atomically, self.directory, files)
        return results


def _write_atomically(directory: Path, files: Sequence[tuple[str, bytes]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files:
        path = directory / name
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, path)


def _notice_store(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> NoticeStore:
    async def store(batch: Sequence[InboxNotice]) -> list[str]:
        async with transaction(sessions) as db:
            return await notices.store_notices(db, batch, now=clock())

    return store


@asynccontextmanager
async def open_channels(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> AsyncIterator[dict[ChannelKind, Channel]]:
    """The three channels for ``settings``; closes the SMS client's connections afterwards."""
    config = settings.notifications
    email: Channel
    if config.smtp is not None:
        email = SmtpChannel(config.smtp)
    else:
        directory = settings.data_dir / MAIL_SANDBOX_DIR
        email = MailSandboxChannel(directory, config.sandbox_from)
        log.warning(f"SMTP_HOST is not set: e-mails are written to {directory}, not sent",
                    extra={"job": "notifications", "code": "mail_sandbox"})
    sms: HttpSmsChannel
    if config.sms is not None:
        sms = HttpSmsChannel(config.sms)
    else:
        path = settings.data_dir / SMS_SANDBOX_FILE
        sms = sandbox_channel(SandboxSmsGateway(secrets.token_urlsafe(24), record_to=path))
        log.warning(f"SMS_GATEWAY_URL is not set: SMS go to the sandbox gateway, recorded in {path}",
                    extra={"job": "notifications", "code": "sms_sandbox"})
    try:
        yield {
            ChannelKind.INBOX: InboxChannel(_notice_store(sessions, clock)),
            ChannelKind.EMAIL: email,
            ChannelKind.SMS: sms,
        }
    finally:
        await sms.aclose()
