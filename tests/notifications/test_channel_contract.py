"""One contract, four implementations: the same tests against every outside-channel twin.

The real SMS client is run against the sandbox gateway in-process (`sandbox_channel`) and
over a real socket (the sandbox served by uvicorn); beside it the fake channel and the SMTP
channel with a real aiosmtpd server. What the worker relies on holds for all of them:
delivered means a provider id; a temporary outage is reported as temporary and the retry is
delivered; a rejected recipient is permanent; a re-send of the same message carries the same
provider id; failure details never contain the recipient (v5.0.0-16.2.5).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
import uvicorn

from notifications import (
    Channel,
    DeliveryStatus,
    FakeChannel,
    HttpSmsChannel,
    RecipientRejected,
    Rendered,
    SandboxSmsGateway,
    SmsGatewayConfig,
    SmtpChannel,
    SmtpConfig,
    TemporaryFailure,
    TlsMode,
    sandbox_channel,
)
from notifications.channels.sms_sandbox import SANDBOX_PATH
from tests.notifications.conftest import Mailbox, StartSmtp

SMS_TEXT = Rendered(
    subject="【文书送达】新文书", body="您有一份新文书，请登录 https://portal.example.gov.cn/mailbox 查看。",
    template_version=1,
)


@dataclass
class Harness:
    """A channel under test and the knobs of the twin behind it."""

    channel: Channel
    recipient: str
    invalid_recipient: str
    fail_temporarily: Callable[[int], None]
    delivered: Callable[[], list[tuple[str, str]]]  # (recipient, body) as the other side saw it


def _sandbox_harness(gateway: SandboxSmsGateway, channel: HttpSmsChannel) -> Harness:
    return Harness(
        channel=channel,
        recipient="13800138000",
        invalid_recipient="12345",
        fail_temporarily=lambda times: gateway.fail_next(times, status=503),
        delivered=lambda: [(sms.to, sms.text) for sms in gateway.sent],
    )


def _fake_harness() -> Harness:
    fake = FakeChannel()
    fake.reject("10000000000")
    return Harness(
        channel=fake,
        recipient="13800138000",
        invalid_recipient="10000000000",
        fail_temporarily=fake.fail_next,
        delivered=lambda: [(item.recipient, item.rendered.body) for item in fake.sent],
    )


def _smtp_harness(start_smtp: StartSmtp) -> Harness:
    mailbox = Mailbox(refuse={"nobody@example.com": "550 5.1.1 <nobody@example.com>: no such user"})
    server = start_smtp(mailbox)
    config = SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        tls=TlsMode.NONE, timeout=5,
    )
    return Harness(
        channel=SmtpChannel(config),
        recipient="zhang.party@example.com",
        invalid_recipient="nobody@example.com",
        fail_temporarily=lambda times: mailbox.rcpt_replies.extend(["451 4.3.0 busy"] * times),
        delivered=lambda: [
            (envelope.rcpt_tos[0], message.get_content().replace("\r\n", "\n").rstrip("\n"))
            for envelope, message in mailbox.received
        ],
    )


async def _uvicorn_harness() -> AsyncIterator[Harness]:
    gateway = SandboxSmsGateway(api_key="sandbox-key")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(gateway, log_level="warning"))
    # The socket already listens: the client's connection waits in the backlog until uvicorn
    # accepts it, so nothing has to poll for "started".
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    config = SmsGatewayConfig(
        url=f"http://127.0.0.1:{port}{SANDBOX_PATH}", api_key="sandbox-key",
        sender_id="portal", signature_name="行政执法平台", timeout=5,
    )
    async with HttpSmsChannel(config) as channel:
        yield _sandbox_harness(gateway, channel)
    server.should_exit = True
    await serving
    listener.close()


@pytest_asyncio.fixture(params=["fake", "sandbox-asgi", "sandbox-uvicorn", "smtp"])
async def harness(request: pytest.FixtureRequest, start_smtp: StartSmtp) -> AsyncIterator[Harness]:
    if request.param == "fake":
        yield _fake_harness()
    elif request.param == "sandbox-asgi":
        gateway = SandboxSmsGateway(api_key="sandbox-key")
        async with sandbox_channel(gateway) as channel:
            yield _sandbox_harness(gateway, channel)
    elif request.param == "sandbox-uvicorn":
        async for running in _uvicorn_harness():
            yield running
    else:
        yield _smtp_harness(start_smtp)


async def test_delivers_with_a_provider_id(harness: Harness) -> None:
    result = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-1:x")
    assert result.status is DeliveryStatus.DELIVERED
    assert result.provider_message_id
    assert result.error is None
    assert harness.delivered() == [(harness.recipient, SMS_TEXT.body)]


async def test_temporary_failures_then_delivered(harness: Harness) -> None:
    harness.fail_temporarily(2)
    statuses = []
    for _ in range(3):
        result = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-1:x")
        statuses.append(result.status)
        if result.error is not None:
            assert isinstance(result.error, TemporaryFailure)
    assert statuses == [DeliveryStatus.TEMPORARY_FAILURE] * 2 + [DeliveryStatus.DELIVERED]
    assert harness.delivered() == [(harness.recipient, SMS_TEXT.body)]


async def test_rejected_recipient_is_permanent(harness: Harness) -> None:
    result = await harness.channel.send(SMS_TEXT, harness.invalid_recipient, dedupe_key="e:x")
    assert result.status is DeliveryStatus.PERMANENT_FAILURE
    assert isinstance(result.error, RecipientRejected)
    assert result.reason == "recipient_rejected"
    assert harness.invalid_recipient not in result.detail
    assert harness.delivered() == []


async def test_resend_answers_the_same_provider_id(harness: Harness) -> None:
    first = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-1:x")
    again = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-1:x")
    other = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-2:x")
    assert first.provider_message_id == again.provider_message_id
    assert other.provider_message_id != first.provider_message_id


async def test_failure_detail_never_names_the_recipient(harness: Harness) -> None:
    harness.fail_temporarily(1)
    result = await harness.channel.send(SMS_TEXT, harness.recipient, dedupe_key="evt-1:x")
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE
    assert harness.recipient not in result.detail
    assert result.detail
