"""Production mode: with an ``https://`` public URL and nothing else set, the portal refuses to
start and says, in one message, everything that must change; ``portal check`` prints the same
list; ``make run`` stays development mode and says so. SECURITY.md "Deployment configuration"
(v5.0.0-13.4.x, 14.1.x, 14.2.x)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import pytest
from starlette.applications import Starlette

from portal import cli, deployment
from portal.app import create_app
from portal.database import transaction, utcnow
from portal.errors import ConfigurationError
from portal.models.parties import Account
from portal.services import agencies, webhooks
from portal.settings import load_settings
from tests.builders import party
from tests.conftest import Database
from tests.identities import ZHANGSAN

EVERY_DEVELOPMENT_PART = ("SECRET_KEY", "OIDC_ISSUER", "PAYMENT_PLATFORM", "TRUST_ROOTS_DIR",
                          "SMTP_HOST", "SMS_GATEWAY_URL")


def _settings_lines(message: str) -> set[str]:
    return {line.strip().removeprefix("- ").split(":", 1)[0] for line in message.splitlines()[1:]}


def test_an_https_public_url_alone_refuses_to_start_listing_every_problem(data_dir: Path) -> None:
    settings = load_settings({"DATA_DIR": str(data_dir), "PUBLIC_URL": "https://portal.example.gov.cn",
                              "LOG_LEVEL": "DEBUG"})
    assert settings.production
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings)
    message = str(refused.value)
    assert message.startswith("生产模式下不能启动：发现 8 个问题")
    assert _settings_lines(message) == {*EVERY_DEVELOPMENT_PART, "DATABASE_URL", "LOG_LEVEL"}
    assert "开发用身份认证服务" in message and "沙箱支付平台" in message and "开发用 PKI" in message
    assert settings.secret_key not in message


def test_production_can_be_asked_for_explicitly_and_development_stays_the_default(data_dir: Path) -> None:
    explicit = load_settings({"DATA_DIR": str(data_dir), "PORTAL_MODE": "production"})
    assert explicit.production
    assert "PUBLIC_URL" in _settings_lines(deployment.refusal(deployment.configuration_problems(explicit)))
    development = load_settings({"DATA_DIR": str(data_dir)})  # what make run uses
    assert development.development
    with pytest.raises(ConfigurationError, match="PORTAL_MODE"):
        load_settings({"DATA_DIR": str(data_dir), "PORTAL_MODE": "staging"})


def test_a_complete_production_configuration_has_no_problem(data_dir: Path) -> None:
    # the check can pass: every part configured for real (files are read when used, not here)
    env = {"DATA_DIR": str(data_dir), "PUBLIC_URL": "https://portal.example.gov.cn",
           "DATABASE_URL": "postgresql://portal@db.internal/portal",
           "SECRET_KEY": secrets.token_urlsafe(48),
           "OIDC_ISSUER": "https://id.example.gov.cn", "OIDC_CLIENT_ID": "portal",
           "OIDC_CLIENT_SECRET": "s", "PAYMENT_PLATFORM": "nontax",
           "NONTAX_GATEWAY_URL": "https://pay.example.gov.cn/gw", "NONTAX_APP_ID": "app",
           "NONTAX_PRIVATE_KEY": "/etc/portal/nontax.pem", "NONTAX_PLATFORM_KEY": "/etc/portal/platform.pem",
           "TRUST_ROOTS_DIR": "/etc/portal/roots", "PORTAL_SEAL_P12": "/etc/portal/seal.p12",
           "TSA_URL": "https://tsa.example.gov.cn", "SMTP_HOST": "smtp.example.gov.cn",
           "SMTP_FROM": "noreply@example.gov.cn", "SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
           "SMS_API_KEY": "key"}
    assert deployment.configuration_problems(load_settings(env)) == []
    placeholder = load_settings({**env, "SECRET_KEY": "changeme" * 4})
    assert [p.code for p in deployment.configuration_problems(placeholder)] == ["secret_weak"]
    plain = load_settings({**env, "SMS_GATEWAY_URL": "http://sms.example.gov.cn/send",
                           "OIDC_ISSUER": "http://id.example.gov.cn"})
    assert {p.code for p in deployment.configuration_problems(plain)} == {"sms_http", "oidc_http"}
    # documents on one node's disk: another node cannot serve them, a database backup lacks them
    on_disk = load_settings({**env, "BLOB_STORE": "files"})
    assert [str(p) for p in deployment.configuration_problems(on_disk)] == [
        "BLOB_STORE: BLOB_STORE=files 把文书存在本节点的磁盘上：其他节点读不到，数据库备份也不包含它们；"
        "请使用 database（默认）或 s3"]


def test_development_mode_says_so_at_start(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    from portal import demo

    settings = load_settings({"DATA_DIR": str(data_dir)})
    assert "开发模式" in demo.banner(settings)  # what make run prints

    async def start() -> None:
        app: Starlette = create_app(settings)
        async with app.router.lifespan_context(app):
            pass

    with caplog.at_level(logging.WARNING, logger="portal"):
        asyncio.run(start())
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("development mode")]
    assert "OIDC_ISSUER" in line and "PAYMENT_PLATFORM" in line and "TRUST_ROOTS_DIR" in line


def _main(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> int:
    """``portal <args>`` as the console script runs it, in this process (no server starts:
    serving would fail the test)."""
    for key in ("DATABASE_URL", "DATA_DIR", "PUBLIC_URL", "PORTAL_MODE", "SECRET_KEY", "OIDC_ISSUER"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "configure_logging", lambda _level: None)

    def no_server(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(cli, "_serve", no_server)
    return cli.main(list(args))


async def test_portal_check_and_start_up_list_what_the_database_holds(
        database: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # a loopback webhook and a demo account, as a development database would have them
    async with transaction(database.sessions) as db:
        client = await agencies.create_client(db, "某某局")
        await webhooks.register(db, client.agency_id, "http://127.0.0.1:9/hook", secret_key="k" * 32,
                                development=True)
        person = await party(db, ZHANGSAN)
        db.add(Account(issuer="http://127.0.0.1:8000/dev-idp", subject="zhangsan", person_id=person.id,
                       created_at=utcnow(), last_login_at=utcnow()))
    env = {"DATABASE_URL": database.url, "DATA_DIR": str(data_dir),
           "PUBLIC_URL": "https://portal.example.gov.cn"}
    capsys.readouterr()
    assert await asyncio.to_thread(_main, monkeypatch, env, "check") == 1
    out = capsys.readouterr().out
    assert f"执法机关（编号 {client.agency_id}）登记的回调地址" in out and "演示数据" in out
    assert {*EVERY_DEVELOPMENT_PART, "webhooks"} <= _settings_lines(out)
    for command in (["serve"], ["worker", "--once"]):  # refuse before starting, with the same list
        assert await asyncio.to_thread(_main, monkeypatch, env, *command) == 2
        printed = capsys.readouterr()
        assert printed.out == "" and printed.err == out
    assert await asyncio.to_thread(_main, monkeypatch, env, "run") == 2  # seeds the demo: never here
    assert "只用于开发模式" in capsys.readouterr().err
