"""Notification settings: safe defaults with nothing configured, SMTP and SMS from the
environment, and refusal at start-up of what would be unsafe or could not work (DESIGN.md,
"settings are read once ... unknown or missing keys fail at start-up")."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from notifications import ChannelKind, HttpSmsChannel, Kind, Message, SmtpChannel, TlsMode
from portal.errors import ConfigurationError
from portal.settings import Settings, load_settings
from portal.workers.channels import MailSandboxChannel, open_channels
from portal.workers.runner import worker_options
from tests.conftest import Database
from tests.portal.workers.notification_factories import Clock, renderer


def settings_from(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"DATA_DIR": str(tmp_path), **env})


def test_nothing_configured_means_sandboxes_and_safe_limits(tmp_path: Path) -> None:
    config = settings_from(tmp_path).notifications
    assert config.smtp is None and config.sms is None
    options = worker_options(config)
    assert options.lease.total_seconds() == 300 and options.send_timeout.total_seconds() == 3
    assert options.limits.per_party.max_count == 20 and options.limits.overall.max_count == 600
    assert options.policy.max_attempts == 12


def test_smtp_with_starttls_and_login_from_the_environment(tmp_path: Path) -> None:
    config = settings_from(
        tmp_path, SMTP_HOST="smtp.example.gov.cn", SMTP_FROM="noreply@portal.example.gov.cn",
        SMTP_USERNAME="portal", SMTP_PASSWORD="s3cret-password", SMTP_TIMEOUT="20",
        SMS_GATEWAY_URL="https://sms.example.com/send", SMS_API_KEY="key", NOTIFY_LEASE_SECONDS="60",
    ).notifications
    assert config.smtp is not None and config.sms is not None
    assert (config.smtp.port, config.smtp.tls, config.smtp.username) == (587, TlsMode.STARTTLS, "portal")
    assert "s3cret-password" not in repr(config)
    assert config.send_timeout_seconds == 21


@pytest.mark.parametrize("env, problem", [
    ({"SMTP_HOST": "smtp.example.gov.cn"}, "SMTP_FROM"),
    ({"SMTP_HOST": "smtp.example.gov.cn", "SMTP_FROM": "a@b.cn", "SMTP_TLS": "none"},
     "only allowed to a relay on this host"),
    ({"SMTP_HOST": "127.0.0.1", "SMTP_FROM": "a@b.cn", "SMTP_TLS": "none",
      "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}, "credentials need STARTTLS"),
    ({"SMTP_HOST": "smtp.example.gov.cn", "SMTP_FROM": "a@b.cn", "SMTP_TLS": "ssl"}, "SMTP_TLS"),
    ({"SMS_GATEWAY_URL": "https://sms.example.com/send"}, "api_key"),
    ({"NOTIFY_LEASE_SECONDS": "2"}, "NOTIFY_LEASE_SECONDS must exceed"),
    ({"NOTIFY_BATCH_SIZE": "0"}, "must be positive"),
])
def test_unsafe_or_unworkable_settings_fail_at_start(tmp_path: Path, env: dict[str, str],
                                                     problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        settings_from(tmp_path, **env)


async def test_default_channels_write_mail_to_the_sandbox_directory(
    database: Database, tmp_path: Path
) -> None:
    settings = settings_from(tmp_path, DATABASE_URL=database.url)
    async with open_channels(settings, database.sessions, Clock()) as channels:
        assert isinstance(channels[ChannelKind.EMAIL], MailSandboxChannel)
        assert isinstance(channels[ChannelKind.SMS], HttpSmsChannel)
        message = Message(id="1", kind=Kind.CONSENT_SIGNED, channel=ChannelKind.EMAIL,
                          recipient="zhang@example.com", context={"consent_date": date(2026, 9, 28)},
                          dedupe_key="consent:1:email")
        result = await channels[ChannelKind.EMAIL].send(
            renderer().render(message), "zhang@example.com", dedupe_key=message.dedupe_key)
    [written] = (tmp_path / "mail-sandbox").glob("*.eml")
    parsed = message_from_bytes(written.read_bytes(), policy=default_policy)
    assert parsed["Subject"] == "【电子送达】您已签署电子送达确认书"
    assert parsed["Message-ID"] == result.provider_message_id
    configured = settings_from(tmp_path, DATABASE_URL=database.url, SMTP_HOST="127.0.0.1",
                               SMTP_FROM="noreply@portal.example.gov.cn", SMTP_TLS="none")
    async with open_channels(configured, database.sessions, Clock()) as channels:
        assert isinstance(channels[ChannelKind.EMAIL], SmtpChannel)
