"""Settings: read once from the environment into a frozen dataclass, then passed down.

This is the only module that touches ``os.environ``. Everything has a safe default so that
``make run`` works on a fresh machine with nothing configured: SQLite under ``DATA_DIR``, a
secret key generated once into ``DATA_DIR``, and the embedded development identity provider
when no external OpenID Provider is configured. Unknown ``PORTAL_*``-style typos are not
guessed at; a malformed value fails at start-up with a clear message.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portal.errors import ConfigurationError

_KEY_FILE = "secret_key"


@dataclass(frozen=True)
class OidcSettings:
    """An external OpenID Provider (the province's unified identity platform)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "openid profile"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    public_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    oidc: OidcSettings | None = None
    max_body_bytes: int = 25 * 1024 * 1024
    max_form_bytes: int = 1024 * 1024
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    trusted_proxy_hops: int = 0
    log_level: str = "INFO"

    @property
    def https(self) -> bool:
        """Cookies get ``Secure`` and the ``__Host-`` prefix only when served over https."""
        return self.public_url.startswith("https://")

    @property
    def dev_idp_enabled(self) -> bool:
        """The embedded identity provider runs only when no external one is configured."""
        return self.oidc is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{key} must be an integer, got {raw!r}") from None


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """Use SECRET_KEY, or one generated once into the data directory (mode 0600)."""
    if env.get("SECRET_KEY"):
        key = env["SECRET_KEY"]
        if len(key) < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters")
        return key
    path = data_dir / _KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    issuer = env.get("OIDC_ISSUER", "")
    if not issuer:
        return None
    client_id = env.get("OIDC_CLIENT_ID", "")
    client_secret = env.get("OIDC_CLIENT_SECRET", "")
    if not client_id or not client_secret:
        raise ConfigurationError("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required")
    return OidcSettings(
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        scope=env.get("OIDC_SCOPE", "openid profile"),
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR", "./var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = env.get("HOST", "127.0.0.1")
    port = _int(env, "PORT", 8000)
    database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'portal.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+asyncpg://" + database_url.removeprefix("postgresql://")
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigurationError("DATABASE_URL must be sqlite+aiosqlite:// or postgresql+asyncpg://")
    public_url = env.get("PUBLIC_URL") or f"http://{host}:{port}"
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(env, data_dir),
        public_url=public_url.rstrip("/"),
        host=host,
        port=port,
        oidc=_oidc(env),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 25 * 1024 * 1024),
        trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
    )
