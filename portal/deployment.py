"""Production mode: what a real deployment must not run with, listed in one place.

``make run`` is development mode: the embedded identity provider lets anyone log in as a demo
user, the sandbox payment platform marks fines paid without money, the development PKI seals
with keys generated on this machine, a secret key is generated into ``DATA_DIR``. Each is right
for a demo and wrong for the public. In production mode (``PORTAL_MODE=production``, or an
``https://`` ``PUBLIC_URL``) start-up refuses while any of them, or any other setting a real
deployment could get wrong, is in force, with ONE message that lists every problem, so an
operator fixes them in one go; ``portal check`` prints the same list without starting
(SECURITY.md "Deployment configuration"; ASVS v5.0.0-13.4.x, 14.1.x).

``configuration_problems`` reads only the settings (``create_app`` refuses on it);
``stored_problems`` also reads what the database holds that production would refuse (webhooks
registered to loopback or plain http, accounts of the development identity provider); the
command line runs both before ``serve`` and ``worker`` start.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import TlsMode
from portal.catalogue import DEPLOYMENT
from portal.dev_idp.provider import MOUNT_PATH as DEV_IDP_PATH
from portal.errors import ConfigurationError
from portal.models.parties import Account
from portal.models.rights import AgencyWebhook
from portal.services import webhooks
from portal.settings import Settings

MIN_DISTINCT_KEY_CHARACTERS = 16
"""A SECRET_KEY of fewer distinct characters is a placeholder (``changeme`` x 4), not random."""


@dataclass(frozen=True)
class Problem:
    """One thing production refuses: the setting to change and a stable code; ``str`` gives
    the operator's sentence (``catalogue.DEPLOYMENT``)."""

    setting: str
    code: str
    detail: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.setting}: {DEPLOYMENT[self.code].format(**self.detail)}"


def _loopback_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")


def configuration_problems(settings: Settings) -> list[Problem]:
    """Every development part or unsafe value in ``settings``, in the order of the README's
    configuration table. Empty: the settings are fit for production."""
    found: list[Problem] = []

    def problem(setting: str, code: str) -> None:
        found.append(Problem(setting, code))

    if not settings.production:
        problem("PORTAL_MODE", "development_mode")
    if not settings.public_url.startswith("https://"):
        problem("PUBLIC_URL", "public_url_http")
    if settings.is_sqlite:
        problem("DATABASE_URL", "sqlite")
    elif settings.blobs.store == "files":
        problem("BLOB_STORE", "blob_store_files")
    if settings.secret_key_generated:
        problem("SECRET_KEY", "secret_generated")
    elif len(set(settings.secret_key)) < MIN_DISTINCT_KEY_CHARACTERS:
        problem("SECRET_KEY", "secret_weak")
    if settings.oidc is None:
        problem("OIDC_ISSUER", "dev_idp")
    elif not settings.oidc.issuer.startswith("https://"):
        problem("OIDC_ISSUER", "oidc_http")
    if settings.payments.sandbox:
        problem("PAYMENT_PLATFORM", "sandbox_payments")
    if settings.signing.development:
        problem("TRUST_ROOTS_DIR", "dev_pki")
    notifications = settings.notifications
    if notifications.smtp is None:
        problem("SMTP_HOST", "mail_sandbox")
    elif notifications.smtp.tls is TlsMode.NONE and not _loopback_host(notifications.smtp.host):
        problem("SMTP_TLS", "smtp_plain")
    if notifications.sms is None:
        problem("SMS_GATEWAY_URL", "sms_sandbox")
    elif not notifications.sms.url.startswith("https://"):
        problem("SMS_GATEWAY_URL", "sms_http")
    if settings.log_level == "DEBUG":
        problem("LOG_LEVEL", "debug_logging")
    return found


async def stored_problems(db: AsyncSession) -> list[Problem]:
    """What the database holds that production refuses: webhooks that production would not
    register (plain http, loopback, cloud metadata), and accounts of the development identity
    provider (the demo's users, who logged in with no password)."""
    found: list[Problem] = []
    for agency_id, url in (await db.execute(select(AgencyWebhook.agency_id, AgencyWebhook.url))).all():
        if not webhooks.registrable(url, development=False):
            found.append(Problem("webhooks", "webhook_refused", {"agency_id": agency_id}))
    demo = (await db.execute(select(Account.id).where(Account.issuer.like(f"%{DEV_IDP_PATH}"))
                             .limit(1))).first()
    if demo is not None:
        found.append(Problem("DATABASE_URL", "demo_accounts"))
    return found


def refusal(problems: Sequence[Problem]) -> str:
    """The one message start-up refuses with."""
    lines = [DEPLOYMENT["refusal"].format(count=len(problems))]
    lines += [f"  - {item}" for item in problems]
    return "\n".join(lines)


def refuse_unsafe(settings: Settings) -> None:
    """Raise ``ConfigurationError`` listing every problem of production ``settings``; nothing
    in development mode (``make run``)."""
    if settings.production:
        problems = configuration_problems(settings)
        if problems:
            raise ConfigurationError(refusal(problems))
