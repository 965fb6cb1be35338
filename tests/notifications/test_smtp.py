"""The SMTP channel against a real SMTP server (aiosmtpd) started by each test.

Proves: a Chinese e-mail arrives with subject, sender name and body decoding exactly; STARTTLS
with login and implicit TLS work against a certificate from a private CA; every way the server
can say no lands on the right side of temporary/permanent; and an outage loses nothing: the
messages fail temporarily while the port is closed and arrive once the server is back.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from notifications import (
    ChannelKind,
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryStatus,
    Kind,
    MessageRejected,
    RecipientRejected,
    Renderer,
    RetryPolicy,
    SmtpChannel,
    SmtpConfig,
    TemporaryFailure,
    TlsMode,
)
from notifications.channels.base import message_reference
from tests.notifications.conftest import (
    SMTP_PASSWORD,
    SMTP_USER,
    Mailbox,
    StartSmtp,
    TlsFiles,
    check_login,
    free_port,
    sample_message,
)

RECIPIENT = "zhang.party@example.com"


def plain(port: int, **options: object) -> SmtpChannel:
    config = SmtpConfig(
        host="127.0.0.1", port=port, from_address="noreply@portal.example.gov.cn",
        tls=TlsMode.NONE, timeout=5, **options,  # type: ignore[arg-type]
    )
    return SmtpChannel(config)


async def test_chinese_email_arrives_with_exact_subject_and_body(
    start_smtp: StartSmtp, renderer: Renderer
) -> None:
    mailbox = Mailbox()
    server = start_smtp(mailbox)
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    rendered = renderer.render(message)

    result = await plain(server.port).send(rendered, RECIPIENT, dedupe_key=message.dedupe_key)

    assert result.status is DeliveryStatus.DELIVERED
    [(envelope, received)] = mailbox.received
    assert envelope.rcpt_tos == [RECIPIENT]
    assert envelope.mail_from == "noreply@portal.example.gov.cn"
    assert received["Subject"] == "【文书送达】福州市市场监督管理局向您送达了行政处罚决定书"
    assert received["Subject"] == rendered.subject
    assert received["From"].addresses[0].display_name == "行政执法服务平台"
    assert received.get_content_charset() == "utf-8"
    # text/plain travels in canonical form: CRLF line ends and a final line break.
    assert received.get_content() == rendered.body.replace("\n", "\r\n") + "\r\n"
    assert "请登录平台查看：https://portal.example.gov.cn/mailbox" in received.get_content()
    # Every byte on the wire is ASCII: encoded words in headers, base64 in the body.
    assert envelope.content.isascii()  # type: ignore[union-attr]
    assert "=?utf-8?" in envelope.content.decode()  # type: ignore[union-attr]
    assert received["Message-ID"] == f"<{message_reference(message.dedupe_key)}@portal.example.gov.cn>"
    assert result.provider_message_id == received["Message-ID"]
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Content-Language"] == "zh-CN"  # set_content used to drop it


async def test_resend_carries_the_same_message_id(
    start_smtp: StartSmtp, renderer: Renderer
) -> None:
    mailbox = Mailbox()
    channel = plain(start_smtp(mailbox).port)
    message = sample_message(renderer, Kind.PAYMENT_CONFIRMED, ChannelKind.EMAIL)
    rendered = renderer.render(message)
    for _ in range(2):
        await channel.send(rendered, RECIPIENT, dedupe_key=message.dedupe_key)
    first, second = (received["Message-ID"] for _, received in mailbox.received)
    assert first == second


async def test_starttls_with_login(
    start_smtp: StartSmtp, renderer: Renderer, tls_files: TlsFiles
) -> None:
    mailbox = Mailbox()
    server = start_smtp(
        mailbox, tls_context=tls_files.server_context, require_starttls=True,
        authenticator=check_login, auth_required=True,
    )
    channel = SmtpChannel(SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        tls=TlsMode.STARTTLS, username=SMTP_USER, password=SMTP_PASSWORD,
        ca_file=str(tls_files.ca_file), timeout=5,
    ))
    message = sample_message(renderer, Kind.HEARING_SCHEDULED, ChannelKind.EMAIL)
    rendered = renderer.render(message)

    result = await channel.send(rendered, RECIPIENT, dedupe_key=message.dedupe_key)

    assert result.status is DeliveryStatus.DELIVERED, result.detail
    [session] = mailbox.sessions
    assert session.ssl is not None and session.authenticated
    [(_, received)] = mailbox.received
    assert received["Subject"] == rendered.subject
    assert "定于2025年3月20日 09:30举行" in received.get_content()


async def test_wrong_password_is_our_misconfiguration(
    start_smtp: StartSmtp, renderer: Renderer, tls_files: TlsFiles
) -> None:
    server = start_smtp(
        Mailbox(), tls_context=tls_files.server_context, require_starttls=True,
        authenticator=check_login, auth_required=True,
    )
    channel = SmtpChannel(SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        username=SMTP_USER, password="wrong", ca_file=str(tls_files.ca_file), timeout=5,
    ))
    message = sample_message(renderer, Kind.CONSENT_SIGNED, ChannelKind.EMAIL)
    result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert result.status is DeliveryStatus.PERMANENT_FAILURE
    assert isinstance(result.error, ChannelMisconfigured)
    assert result.error.status_code == 535


async def test_implicit_tls(start_smtp: StartSmtp, renderer: Renderer, tls_files: TlsFiles) -> None:
    mailbox = Mailbox()
    server = start_smtp(mailbox, ssl_context=tls_files.server_context)
    channel = SmtpChannel(SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        tls=TlsMode.IMPLICIT, ca_file=str(tls_files.ca_file), timeout=5,
    ))
    message = sample_message(renderer, Kind.RECEIPT_ISSUED, ChannelKind.EMAIL)
    result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert result.status is DeliveryStatus.DELIVERED, result.detail
    assert len(mailbox.received) == 1


@pytest.mark.parametrize("tls", [TlsMode.STARTTLS, TlsMode.IMPLICIT])
async def test_untrusted_certificate_is_misconfiguration(
    start_smtp: StartSmtp, renderer: Renderer, tls_files: TlsFiles, tls: TlsMode
) -> None:
    mailbox = Mailbox()
    tls_option = "tls_context" if tls is TlsMode.STARTTLS else "ssl_context"
    server = start_smtp(mailbox, **{tls_option: tls_files.server_context})
    # No ca_file: the private CA is not in the system store, so the server is not trusted.
    channel = SmtpChannel(SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        tls=tls, timeout=5,
    ))
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert isinstance(result.error, ChannelMisconfigured), result.detail
    assert mailbox.received == []


async def test_starttls_required_but_not_offered(start_smtp: StartSmtp, renderer: Renderer) -> None:
    mailbox = Mailbox()
    server = start_smtp(mailbox)
    channel = SmtpChannel(SmtpConfig(
        host="127.0.0.1", port=server.port, from_address="noreply@portal.example.gov.cn",
        tls=TlsMode.STARTTLS, timeout=5,
    ))
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert isinstance(result.error, ChannelMisconfigured)
    assert mailbox.received == []  # never downgraded to plain text


async def test_server_requiring_starttls_refuses_plain_channel(
    start_smtp: StartSmtp, renderer: Renderer, tls_files: TlsFiles
) -> None:
    server = start_smtp(Mailbox(), tls_context=tls_files.server_context, require_starttls=True)
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await plain(server.port).send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert isinstance(result.error, ChannelMisconfigured)
    assert result.error.status_code == 530


async def test_recipient_rejected_with_550_is_permanent(
    start_smtp: StartSmtp, renderer: Renderer
) -> None:
    mailbox = Mailbox(refuse={RECIPIENT: f"550 5.1.1 <{RECIPIENT}>: user unknown"})
    server = start_smtp(mailbox)
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await plain(server.port).send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert result.status is DeliveryStatus.PERMANENT_FAILURE
    assert isinstance(result.error, RecipientRejected)
    assert result.error.status_code == 550
    assert RECIPIENT not in result.detail  # logs carry no address (v5.0.0-16.2.5)
    assert "<recipient>" in result.detail


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_451_is_temporary_and_the_retry_is_delivered(
    start_smtp: StartSmtp, renderer: Renderer, stage: str
) -> None:
    mailbox = Mailbox()
    getattr(mailbox, f"{stage}_replies").append("451 4.3.0 try again later")
    channel = plain(start_smtp(mailbox).port)
    message = sample_message(renderer, Kind.DEADLINE_REMINDER, ChannelKind.EMAIL)
    rendered = renderer.render(message)

    first = await channel.send(rendered, RECIPIENT, dedupe_key=message.dedupe_key)
    assert first.status is DeliveryStatus.TEMPORARY_FAILURE
    assert isinstance(first.error, DeliveryDeferred) and first.error.status_code == 451
    second = await channel.send(rendered, RECIPIENT, dedupe_key=message.dedupe_key)
    assert second.status is DeliveryStatus.DELIVERED
    assert len(mailbox.received) == 1


async def test_content_refused_with_554_is_permanent(
    start_smtp: StartSmtp, renderer: Renderer
) -> None:
    mailbox = Mailbox(data_replies=["554 5.6.0 message content rejected"])
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await plain(start_smtp(mailbox).port).send(
        renderer.render(message), RECIPIENT, dedupe_key="k"
    )
    assert isinstance(result.error, MessageRejected)


async def test_server_down_is_temporary(renderer: Renderer) -> None:
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    result = await plain(free_port()).send(renderer.render(message), RECIPIENT, dedupe_key="k")
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE
    assert isinstance(result.error, ChannelUnavailable)
    with pytest.raises(TemporaryFailure):
        result.raise_for_status()


async def test_silent_server_times_out_as_temporary(renderer: Renderer) -> None:
    hold = asyncio.Event()  # set only after the client gave up: the server says nothing
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hold.wait()
        writer.close()
        hung_up.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        channel = SmtpChannel(SmtpConfig(
            host="127.0.0.1", port=port, from_address="noreply@portal.example.gov.cn",
            tls=TlsMode.NONE, timeout=0.2,
        ))
        message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
        result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key="k")
    finally:
        hold.set()
        await asyncio.wait_for(hung_up.wait(), timeout=5)
        server.close()
        await server.wait_closed()
    assert isinstance(result.error, ChannelUnavailable)


async def test_outage_loses_nothing(start_smtp: StartSmtp, renderer: Renderer) -> None:
    """A worker's loop in miniature: the server is down, then back; every message arrives."""
    port = free_port()
    channel, policy, rng = plain(port), RetryPolicy(), random.Random(7)
    messages = [
        sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, event_id=f"evt-{n}")
        for n in range(3)
    ]
    now = datetime(2025, 2, 18, 8, 0, tzinfo=UTC)
    due = {}
    for message in messages:
        result = await channel.send(renderer.render(message), RECIPIENT, dedupe_key=message.dedupe_key)
        outcome = policy.outcome(1, result, now, rng)
        assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE and outcome.retry_at
        due[message.id] = outcome.retry_at

    mailbox = Mailbox()
    start_smtp(mailbox, port=port)  # the server comes back on the same port
    for message in messages:
        result = await channel.send(
            renderer.render(message), RECIPIENT, dedupe_key=message.dedupe_key
        )
        assert policy.outcome(2, result, max(due.values()), rng).status is DeliveryStatus.DELIVERED

    arrived = sorted(received["Message-ID"] for _, received in mailbox.received)
    expected = sorted(
        f"<{message_reference(message.dedupe_key)}@portal.example.gov.cn>" for message in messages
    )
    assert arrived == expected


@pytest.mark.parametrize(
    "address", ["not-an-address", "zhang@example.com\r\nBcc: all@example.com", "张三@例子.中国"]
)
async def test_unusable_address_is_rejected_without_connecting(
    renderer: Renderer, address: str
) -> None:
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL)
    # The port is closed: a connection attempt would be a temporary failure instead.
    result = await plain(free_port()).send(renderer.render(message), address, dedupe_key="k")
    assert isinstance(result.error, RecipientRejected)


def test_config_refuses_insecure_or_incomplete_settings() -> None:
    base = {"host": "smtp.example.gov.cn", "port": 587, "from_address": "noreply@example.gov.cn"}
    with pytest.raises(ChannelMisconfigured, match="credentials"):
        SmtpConfig(**base, tls=TlsMode.NONE, username="u", password="p")  # type: ignore[arg-type]
    with pytest.raises(ChannelMisconfigured, match="plain SMTP"):
        SmtpConfig(**base, tls=TlsMode.NONE)  # type: ignore[arg-type]
    with pytest.raises(ChannelMisconfigured, match="together"):
        SmtpConfig(**base, username="u")  # type: ignore[arg-type]
    with pytest.raises(ChannelMisconfigured, match="TLS mode"):
        SmtpConfig(**base, tls="ssl")  # type: ignore[arg-type]
    with pytest.raises(ChannelMisconfigured, match="from_address"):
        SmtpConfig(host="smtp.example.gov.cn", port=587, from_address="nobody")
    config = SmtpConfig(**base, username="u", password="secret-value")  # type: ignore[arg-type]
    assert "secret-value" not in repr(config)
    assert SmtpConfig(**base, tls="implicit").tls is TlsMode.IMPLICIT  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("recipient", [RECIPIENT, f"{'long.name' * 8}@{'sub.' * 12}example.com"])
def test_wire_bytes_are_what_the_generator_writes(
    renderer: Renderer, kind: Kind, recipient: str
) -> None:
    # The mail sandbox writes these bytes as "what the wire would carry": they must not differ
    # from the email package's own output, also where a header is long enough to be refolded.
    channel = SmtpChannel(SmtpConfig(
        host="localhost", port=25, from_address="noreply@portal.example.gov.cn",
        from_name="福州市市场监督管理局行政执法与电子送达统一平台通知服务", tls=TlsMode.NONE))
    message = sample_message(renderer, kind, ChannelKind.EMAIL, recipient=recipient)
    composed = channel.compose(renderer.render(message), recipient, dedupe_key=message.dedupe_key)
    assert channel.wire(composed) == composed.as_bytes()
    assert channel.message_id(composed) == composed["Message-ID"]
