"""The payment platforms the portal talks to, chosen from settings in exactly one place.

The portal never holds the money: it asks a platform to collect (``create_order``), sends the
party there, and trusts only what the platform signs (LAW.md; DESIGN.md, "Payments"). Which
platform, and with which keys, is decided here from ``Settings.payments``:

* **sandbox** (the default, development only): the sandbox payment platform
  (`payments.platforms.sandbox.SandboxPlatform`, a small ASGI app with its own Ed25519 key
  pair under ``DATA_DIR/sandbox-pay``) is mounted at ``/sandbox-pay``. The portal reaches it
  through the same `SandboxClient` a separate deployment would use, configured with the
  platform's *public* key only; in the web process the calls (and the platform's callbacks to
  the portal) are served in-process, elsewhere (``portal payments reconcile``) over HTTP.
  The merchant key is derived from ``SECRET_KEY``, so every process of one deployment agrees.
* **nontax**: the provincial non-tax platform's adapter (`payments.NontaxClient`) with the
  portal's RSA key and the platform's public key from PEM files. Its pay pages are on another
  origin, which the fine page's CSP names in ``form-action`` (``form_action_origin``): Chromium
  applies ``form-action`` to the redirect that answers the pay button.

``PaymentPlatforms.adapters`` are the platforms whose callbacks are accepted, by the name in
``POST /api/v1/payments/callbacks/{platform}``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from payments import NontaxClient, PaymentPlatform, SandboxClient
from payments.platforms import sandbox_wire
from portal.errors import ConfigurationError
from portal.outbound import tls_context
from portal.settings import NontaxSettings, Settings

if TYPE_CHECKING:  # importing the sandbox imports Starlette: only where it is mounted
    from payments.platforms.sandbox import PayerCheck, SandboxPlatform

__all__ = ["CALLBACK_PATH", "SANDBOX_MOUNT", "PaymentPlatforms", "sandbox_key_dir"]

log = logging.getLogger("portal.payments")
SANDBOX_MOUNT = "/sandbox-pay"
CALLBACK_PATH = "/api/v1/payments/callbacks/{platform}"
HttpFactory = Callable[[], httpx.AsyncClient]


def sandbox_key_dir(data_dir: Path) -> Path:
    return data_dir / "sandbox-pay"


def _merchant_key(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"sandbox-pay merchant key", hashlib.sha256).hexdigest()


def _default_http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), verify=tls_context())


@dataclass
class PaymentPlatforms:
    """The active platform (new orders), every accepted one (callbacks), and the sandbox app
    when it runs in this process."""

    active: PaymentPlatform
    adapters: Mapping[str, PaymentPlatform]
    public_url: str
    sandbox: SandboxPlatform | None = None
    """The sandbox platform's app, when this process mounts it."""
    form_action_origin: str = ""

    def notify_url(self, platform: str) -> str:
        return self.public_url + CALLBACK_PATH.format(platform=platform)

    def return_url(self, fine_public_id: str) -> str:
        return f"{self.public_url}/fines/{fine_public_id}/return"

    @classmethod
    def from_settings(cls, settings: Settings, *, http: HttpFactory | None = None,
                      mount_sandbox: bool = False,
                      sandbox_payer: PayerCheck | None = None) -> PaymentPlatforms:
        """``http`` makes the clients' HTTP client (the web app passes one that serves its own
        origin in-process); ``mount_sandbox`` also builds the sandbox app (the web process),
        whose pay pages ``sandbox_payer`` restricts to the order's payer."""
        factory = http or _default_http
        config = settings.payments
        if config.nontax is not None:
            client = _nontax(config.nontax, factory())
            return cls(client, {client.name: client}, settings.public_url,
                       form_action_origin=config.nontax.pay_origin)
        key_dir = sandbox_key_dir(settings.dev_keys_dir)
        merchant_key = _merchant_key(settings.secret_key)
        sandbox: SandboxPlatform | None = None
        if mount_sandbox:
            from payments.platforms.sandbox import SandboxPlatform

            sandbox = SandboxPlatform(key_dir, merchant_key=merchant_key,
                                      public_url=settings.public_url + SANDBOX_MOUNT,
                                      notify_http=factory(), payer=sandbox_payer)
        public_key = key_dir / sandbox_wire.PUBLIC_KEY_FILE
        if not public_key.exists():
            raise ConfigurationError("the sandbox payment platform has not created its keys yet: "
                                     "start the portal (portal run / serve) once")
        adapter = SandboxClient(base_url=settings.public_url + SANDBOX_MOUNT,
                                public_key=public_key.read_bytes(), merchant_key=merchant_key,
                                http=factory())
        return cls(adapter, {adapter.name: adapter}, settings.public_url, sandbox=sandbox)


def _nontax(config: NontaxSettings, http: httpx.AsyncClient) -> NontaxClient:
    try:
        private_key = serialization.load_pem_private_key(config.private_key_pem.read_bytes(),
                                                         password=None)
        platform_key = serialization.load_pem_public_key(config.platform_key_pem.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"NONTAX_PRIVATE_KEY / NONTAX_PLATFORM_KEY: {exc}") from exc
    if not isinstance(private_key, RSAPrivateKey) or not isinstance(platform_key, RSAPublicKey):
        raise ConfigurationError("NONTAX_PRIVATE_KEY and NONTAX_PLATFORM_KEY must be RSA PEM keys")
    return NontaxClient(gateway_url=config.gateway_url, app_id=config.app_id,
                        private_key=private_key, platform_key=platform_key, http=http)
