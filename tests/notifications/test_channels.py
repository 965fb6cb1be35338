"""The result value, the error tree, the in-portal notice and the fake's test conveniences.

Proves: a result's status follows from its error's class and cannot contradict it; errors
carry stable codes for the outbox row; the in-portal notice hands title, body, version and
dedupe key to the portal's store and reports its id; the fake can be awaited from a test while
a worker runs in the background (no sleeping); every channel satisfies the `Channel` protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from notifications import (
    Channel,
    ChannelKind,
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryError,
    DeliveryResult,
    DeliveryStatus,
    FakeChannel,
    InboxChannel,
    InboxNotice,
    Kind,
    MessageRejected,
    NotificationError,
    PermanentFailure,
    RecipientRejected,
    Renderer,
    SandboxSmsGateway,
    SmtpChannel,
    SmtpConfig,
    TemporaryFailure,
    sandbox_channel,
)
from notifications.channels.base import message_reference
from tests.notifications.conftest import sample_message


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ChannelUnavailable("x"), DeliveryStatus.TEMPORARY_FAILURE, "channel_unavailable"),
        (DeliveryDeferred("x"), DeliveryStatus.TEMPORARY_FAILURE, "delivery_deferred"),
        (RecipientRejected("x"), DeliveryStatus.PERMANENT_FAILURE, "recipient_rejected"),
        (MessageRejected("x"), DeliveryStatus.PERMANENT_FAILURE, "message_rejected"),
        (ChannelMisconfigured("x"), DeliveryStatus.PERMANENT_FAILURE, "channel_misconfigured"),
    ],
)
def test_failed_result_status_follows_the_error(
    error: DeliveryError, status: DeliveryStatus, code: str
) -> None:
    result = DeliveryResult.failed(error)
    assert result.status is status
    assert result.reason == code
    assert isinstance(error, NotificationError)
    assert isinstance(error, TemporaryFailure) != isinstance(error, PermanentFailure)
    with pytest.raises(type(error)):
        result.raise_for_status()


def test_result_cannot_contradict_itself() -> None:
    DeliveryResult.delivered("id").raise_for_status()  # no error, no exception
    with pytest.raises(ValueError):
        DeliveryResult(DeliveryStatus.DELIVERED, error=ChannelUnavailable("x"))
    with pytest.raises(ValueError):
        DeliveryResult(DeliveryStatus.TEMPORARY_FAILURE)
    with pytest.raises(ValueError):
        DeliveryResult(DeliveryStatus.SENDING)
    with pytest.raises(TypeError):
        DeliveryResult.failed(DeliveryError("neither temporary nor permanent"))


def test_message_reference_is_stable_and_opaque() -> None:
    assert message_reference("evt-1:email") == message_reference("evt-1:email")
    assert message_reference("evt-1:email") != message_reference("evt-1:sms")
    assert "evt" not in message_reference("evt-1:email")
    assert len(message_reference("evt-1:email")) == 32
    with pytest.raises(ValueError):
        message_reference("")


async def test_inbox_notice_goes_to_the_portal_store(renderer: Renderer) -> None:
    stored: list[InboxNotice] = []

    async def store(batch: Sequence[InboxNotice]) -> list[str]:
        stored.extend(batch)
        return [f"notice-{len(stored)}"]

    message = sample_message(
        renderer, Kind.PAYMENT_CONFIRMED, ChannelKind.INBOX, recipient="party-17"
    )
    rendered = renderer.render(message)
    result = await InboxChannel(store).send(rendered, "party-17", dedupe_key=message.dedupe_key)

    assert result == DeliveryResult.delivered("notice-1", "stored")
    assert stored == [
        InboxNotice(
            party="party-17",
            title="缴款已确认",
            body=rendered.body,
            template_version=rendered.template_version,
            dedupe_key="evt-1:inbox",
        )
    ]


async def test_fake_can_be_awaited_while_a_worker_runs(renderer: Renderer) -> None:
    fake = FakeChannel()
    fake.fail_next(1)
    messages = [
        sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.SMS, event_id=f"e{n}")
        for n in range(3)
    ]

    async def worker() -> None:
        for message in messages:
            rendered = renderer.render(message)
            for _ in range(2):  # one retry is enough for the one failure
                result = await fake.send(rendered, "13800138000", dedupe_key=message.dedupe_key)
                if result.status is DeliveryStatus.DELIVERED:
                    break

    running = asyncio.create_task(worker())
    delivered = await fake.wait_for(3)
    await running
    assert [item.dedupe_key for item in delivered] == ["e0:sms", "e1:sms", "e2:sms"]
    assert fake.attempts == 4


async def test_fake_fails_with_the_error_it_is_given(renderer: Renderer) -> None:
    fake = FakeChannel()
    fake.fail_next(1, MessageRejected("too long"))
    rendered = renderer.render(sample_message(renderer, Kind.RECEIPT_ISSUED, ChannelKind.SMS))
    result = await fake.send(rendered, "13800138000", dedupe_key="k")
    assert isinstance(result.error, MessageRejected)
    assert fake.sent == []


async def test_every_channel_satisfies_the_protocol() -> None:
    async def store(batch: Sequence[InboxNotice]) -> list[str]:
        return ["1"] * len(batch)

    async with sandbox_channel(SandboxSmsGateway(api_key="k")) as sms:
        channels = [
            FakeChannel(),
            InboxChannel(store),
            sms,
            SmtpChannel(SmtpConfig(host="smtp.example.cn", port=587, from_address="a@example.cn")),
        ]
        assert all(isinstance(channel, Channel) for channel in channels)
