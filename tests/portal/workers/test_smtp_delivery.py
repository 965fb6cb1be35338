"""E-mail from the outbox to a real SMTP server (aiosmtpd) started by the test.

Proves: the Chinese e-mail the worker sends arrives with the exact subject, sender name and
body (encoded words and base64 UTF-8, ASCII on the wire); and an SMTP outage loses nothing:
while the server is down every message fails temporarily and is rescheduled with back-off,
and once it is back each arrives exactly once, with every attempt on record.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from notifications import ChannelKind, Kind, Message, RetryPolicy, SmtpChannel, SmtpConfig, TlsMode
from notifications.channels.base import message_reference
from tests.conftest import Database
from tests.notifications.conftest import Mailbox, free_port
from tests.portal.workers.notification_factories import (
    Clock,
    attempts,
    enqueue,
    make_party,
    make_worker,
    messages,
    renderer,
)

SENDER = "noreply@portal.example.gov.cn"


@pytest.fixture
def smtp_servers() -> Iterator[list[Controller]]:
    started: list[Controller] = []
    yield started
    for controller in started:
        controller.stop()


def start_server(started: list[Controller], mailbox: Mailbox, port: int) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    started.append(controller)
    return controller


def smtp_channel(port: int) -> SmtpChannel:
    return SmtpChannel(SmtpConfig(host="127.0.0.1", port=port, from_address=SENDER,
                                  tls=TlsMode.NONE, timeout=5))


async def test_chinese_email_from_the_outbox_arrives_intact(
    database: Database, smtp_servers: list[Controller]
) -> None:
    mailbox = Mailbox()
    server = start_server(smtp_servers, mailbox, free_port())
    party = await make_party(database, email="zhang.party@example.com")
    await enqueue(database, party, "arrival:1")

    await make_worker(database, Clock(), email=smtp_channel(server.port)).drain()

    [(envelope, received)] = mailbox.received
    assert envelope.rcpt_tos == ["zhang.party@example.com"]
    assert received["Subject"] == "【文书送达】福州市市场监督管理局向您送达了行政处罚决定书"
    assert received["From"].addresses[0].display_name == "行政执法服务平台"
    assert received.get_content_charset() == "utf-8"
    assert received["Content-Transfer-Encoding"] == "base64"
    body = received.get_content()
    assert "通过电子送达向您送达了一份行政处罚决定书（案件编码：FJ-FZ-2026-000123）" in body
    assert "请登录平台查看：http://testserver/mailbox" in body
    assert envelope.content.isascii()  # type: ignore[union-attr]
    # Rendered from the stored row exactly as at enqueue time (pinned template version).
    [row] = await messages(database, channel="email")
    expected = renderer().render(
        Message(id="x", kind=Kind(row.kind), channel=ChannelKind(row.channel), recipient=row.recipient,
                context=row.context, dedupe_key=row.dedupe_key),
        version=row.template_version)
    assert body == expected.body.replace("\n", "\r\n") + "\r\n"
    [attempt] = await attempts(database, row.id)
    message_id = f"<{message_reference('arrival:1:email')}@portal.example.gov.cn>"
    assert received["Message-ID"] == attempt.provider_message_id == message_id


async def test_smtp_outage_then_recovery_delivers_every_message_once(
    database: Database, smtp_servers: list[Controller]
) -> None:
    port = free_port()  # nothing listens here yet: the server is "down"
    addresses = [f"party{n}@example.com" for n in range(5)]
    for n, address in enumerate(addresses):
        await enqueue(database, await make_party(database, email=address), f"arrival:{n}")
    policy = RetryPolicy(base=timedelta(minutes=1), cap=timedelta(hours=1), max_attempts=10)
    clock = Clock()
    worker = make_worker(database, clock, email=smtp_channel(port), policy=policy)

    for attempt_no in (1, 2):
        await worker.drain()
        waiting = await messages(database, channel="email")
        assert {(row.status, row.attempts, row.last_error) for row in waiting} == {
            ("temporary-failure", attempt_no, "channel_unavailable")}
        for row in waiting:  # rescheduled within the back-off ceiling of this attempt
            assert row.next_attempt_at is not None
            assert clock() <= row.next_attempt_at <= clock() + policy.ceiling(attempt_no)
        clock.now = max(row.next_attempt_at for row in waiting if row.next_attempt_at)

    mailbox = Mailbox()
    start_server(smtp_servers, mailbox, port)
    await worker.drain()

    assert sorted(envelope.rcpt_tos[0] for envelope, _ in mailbox.received) == addresses
    assert len({received["Message-ID"] for _, received in mailbox.received}) == 5
    rows = await messages(database, channel="email")
    assert {(row.status, row.attempts) for row in rows} == {("delivered", 3)}
    for row in rows:
        assert [a.status for a in await attempts(database, row.id)] == [
            "temporary-failure", "temporary-failure", "delivered"]
