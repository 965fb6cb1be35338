"""Settings: read once from the environment into a frozen dataclass, then passed down.

This is the only module that touches ``os.environ``. Everything has a safe default so that
``make run`` works on a fresh machine with nothing configured: SQLite under ``DATA_DIR``, a
secret key generated once into ``DATA_DIR``, and the embedded development identity provider
when no external OpenID Provider is configured. Unknown ``PORTAL_*``-style typos are not
guessed at; a malformed value fails at start-up with a clear message.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from notifications import ChannelMisconfigured, SmsGatewayConfig, SmtpConfig, TlsMode
from portal import keys
from portal.errors import ConfigurationError
from signing import Pkcs11Config

_KEY_FILE = "secret_key"


@dataclass(frozen=True)
class OidcSettings:
    """An external OpenID Provider (the province's unified identity platform)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "openid profile"


@dataclass(frozen=True)
class NotificationSettings:
    """Channels and worker tuning for notifications (README, "Notifications").

    ``smtp``/``sms`` None means the embedded sandboxes (a mail directory, the sandbox SMS
    gateway under ``DATA_DIR``). Limits: per party per hour and overall per minute, counted
    on e-mail and SMS sends.
    """

    smtp: SmtpConfig | None = None
    sms: SmsGatewayConfig | None = None
    sandbox_from: str = "noreply@localhost"
    batch_size: int = 20
    lease_seconds: int = 300
    poll_seconds: float = 2.0
    max_attempts: int = 12
    retry_base_seconds: int = 60
    party_limit_per_hour: int = 20
    global_limit_per_minute: int = 600
    reminder_interval_seconds: int = 300

    @property
    def send_timeout_seconds(self) -> float:
        """The longest one send may take: the slowest channel's own timeout (the sandboxes
        and the notice store answer in milliseconds; 2 s) plus a second for rendering."""
        timeouts = [c.timeout for c in (self.smtp, self.sms) if c is not None]
        return max([*timeouts, 2.0]) + 1.0


@dataclass(frozen=True)
class SigningSettings:
    """Trust, the portal's own seal, the time-stamping authority and PDF verification
    (``portal.notary``; README, "Configuration").

    ``trust_roots_dir``, the portal's seal and ``tsa_url`` come together or not at all: all
    three unset means the development PKI generated under ``DATA_DIR/pki`` (its TSA runs
    in-process); a partial set is refused at start-up, because a seal or a TSA outside the
    configured trust would produce documents that do not verify. The seal comes from a PKCS#12
    file (``portal_seal_p12``) or a PKCS#11 token, an HSM (``portal_seal_pkcs11``; its PIN is
    kept out of ``repr``), not both; and/or from an SM2 key file, the national-standard seal
    (``portal_seal_sm2_key`` with its certificate file, and for OFD documents its GB/T 38540
    seal file ``portal_seal_sm2_seal``), which seals the PDFs too when it is the only one.
    """

    trust_roots_dir: Path | None = None
    portal_seal_p12: Path | None = None
    portal_seal_p12_password: str | None = field(default=None, repr=False)
    portal_seal_pkcs11: Pkcs11Config | None = None
    portal_seal_sm2_key: Path | None = None
    portal_seal_sm2_key_password: str | None = field(default=None, repr=False)
    portal_seal_sm2_cert: Path | None = None
    portal_seal_sm2_seal: Path | None = None
    tsa_url: str | None = None
    verify_workers: int = 2
    verify_uploads_per_minute: int = 20
    revocation_hosts: tuple[str, ...] = ()
    """Extra hosts OCSP and CRL requests may go to (``signing.fetching``)."""

    @property
    def development(self) -> bool:
        return self.trust_roots_dir is None


@dataclass(frozen=True)
class NontaxSettings:
    """The provincial non-tax payment platform (``payments.NontaxClient``)."""

    gateway_url: str
    app_id: str
    private_key_pem: Path
    platform_key_pem: Path
    pay_origin: str


@dataclass(frozen=True)
class PaymentSettings:
    """Where parties pay fines (README, "Payments").

    ``platform`` is ``sandbox`` (the embedded sandbox platform, mounted at ``/sandbox-pay``:
    development only, no real money) unless ``PAYMENT_PLATFORM=nontax`` and every ``NONTAX_*``
    key is set. ``receipt_code_prefix`` (4 digits) starts each agency's 8-digit fiscal receipt
    code, followed by the agency's number. ``reconcile_hour`` (China time, 0–23) is when the
    worker starts reconciling the previous day: platforms publish a day's statement a little
    after midnight. ``receipt_formats`` are the documents each fiscal e-receipt is issued as
    (``RECEIPT_FORMATS``): a PDF sealed at PAdES B-LT and/or an OFD sealed per GB/T 38540, the
    form fiscal e-receipts take in the national system. An OFD needs the portal's GB/T 38540
    seal, so by default it is issued beside the PDF wherever that seal exists (development,
    or ``PORTAL_SEAL_SM2_SEAL`` set) and otherwise not. ``receipt_processes``
    (``RECEIPT_PROCESSES``, by default one per CPU) is how many processes of each worker render
    and seal receipts side by side (``workers.receipt_documents``); 0 does it in the worker's
    own process.
    """

    platform: str = "sandbox"
    nontax: NontaxSettings | None = None
    receipt_code_prefix: str = "3501"
    reconcile_hour: int = 2
    receipt_formats: tuple[str, ...] = ("pdf",)
    receipt_processes: int = 0

    @property
    def sandbox(self) -> bool:
        return self.platform == "sandbox"


PROVINCES = ("fujian", "guangdong")
"""Provinces whose platform regulation the portal can cite (``catalogue.regulations``)."""


@dataclass(frozen=True)
class ServiceDeskSettings:
    """Where the portal runs and where people get help.

    ``province`` picks the platform regulation pages and documents cite (Fujian Order No. 242
    or Guangdong Yue-Fu [2023] 73), so a consent form never quotes another province's rules.
    ``help_line`` is the telephone line shown in every page's footer and on every error page
    (the government service hotline 12345 by default); a page about one agency's matter adds
    that agency's own phone beside it where the agency gave one.
    """

    province: str = "fujian"
    help_line: str = "12345"
    help_line_name: str = "政务服务便民热线"


BLOB_STORES = ("database", "files", "s3")


@dataclass(frozen=True)
class DatabaseSettings:
    """How the portal reaches PostgreSQL (README, "Several nodes").

    ``transaction_pooling``: ``DATABASE_URL`` leads to a pooler in transaction mode
    (PgBouncer ``pool_mode = transaction``), where consecutive transactions of one client
    connection may run on different server connections: no prepared statement is kept
    between them (asyncpg's and SQLAlchemy's statement caches off, unique statement names)
    and no session setting is sent at connect. ``replica_url``: a streaming standby
    (``DATABASE_REPLICA_URL``) for anonymous public reads (publicity search and items, public
    case and receipt lookups); what a party reads of its own stays on the primary, which has
    every write the moment it is acknowledged. ``pool_size`` + ``max_overflow`` per process
    bound the connections one process opens.
    """

    transaction_pooling: bool = False
    replica_url: str | None = field(default=None, repr=False)
    pool_size: int = 10
    max_overflow: int = 20


@dataclass(frozen=True)
class S3Settings:
    """An S3-compatible object store for documents (``BLOB_STORE=s3``; ``S3_*``).

    ``endpoint_url`` None means the AWS endpoint of ``region``; any S3-compatible server
    (MinIO, Ceph, a cloud's object storage) is named by its URL. Credentials may also come
    from the usual AWS sources (instance role, ``~/.aws``) when both keys are unset.
    """

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    prefix: str = "blobs/"


@dataclass(frozen=True)
class BlobSettings:
    """Where documents are stored (``portal.blobstore``; README, "Configuration").

    ``store``: ``database`` (the ``blobs`` table: the default on PostgreSQL, so documents travel
    with their evidence through every backup and replica and every node reads them),
    ``files`` (under ``directory``: the default on SQLite, one node) or ``s3``.
    """

    store: str = "files"
    directory: Path = Path("var/blobs")
    s3: S3Settings | None = None


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
    fresh_login_minutes: int = 10
    """How recent a login every legal act needs (``web.auth.login_is_fresh``): consent,
    contacts, delegations, and each act filed on a case (statement, hearing request, recusal,
    waiver, payment plan, objection)."""
    trusted_proxy_hops: int = 0
    log_level: str = "INFO"
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    payments: PaymentSettings = field(default_factory=PaymentSettings)
    service_desk: ServiceDeskSettings = field(default_factory=ServiceDeskSettings)
    blobs: BlobSettings = field(default_factory=BlobSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    dev_keys_dir: Path = Path("var")
    """Where the development parts keep the keys they generate (the development PKI, the
    development identity provider's key, the sandbox payment platform's key); ``DATA_DIR``
    unless ``DEV_KEYS_DIR`` names a directory the nodes of a development cluster share."""
    metrics_token: str | None = field(default=None, repr=False)
    """``METRICS_TOKEN``: the bearer token of ``/metrics``; unset, the route does not exist."""
    metrics_dir: Path | None = None
    """``PROMETHEUS_MULTIPROC_DIR``: set by ``portal serve --workers N`` for its processes."""
    production: bool = False
    """Production mode (``PORTAL_MODE``; implied by an ``https://`` ``PUBLIC_URL``): start-up
    refuses every development part (``portal.deployment``)."""
    secret_key_generated: bool = False
    """``SECRET_KEY`` was not given: the key was generated into ``DATA_DIR`` by this node."""
    key_ids: Mapping[str, str] = field(default_factory=dict)
    """``KEY_IDS``: the key id of each purpose that is not at ``1`` (``portal.keys``)."""
    evidence_checkpoint_seconds: int = 600
    """``EVIDENCE_CHECKPOINT_SECONDS``: how often the workers anchor the evidence chains' heads
    with an RFC 3161 checkpoint (``portal.workers.evidence``); 60 s to a day. What changed
    since the last checkpoint is what a forger with the database could still rewrite unseen."""

    def key(self, purpose: str) -> bytes:
        """The current key for ``purpose`` (``portal.keys.PURPOSES``), derived from SECRET_KEY."""
        return keys.derive(self.secret_key, purpose, self.key_ids.get(purpose, "1"))

    def key_text(self, purpose: str) -> str:
        """``key(purpose)`` as hex, for APIs that take a text secret."""
        return self.key(purpose).hex()

    @property
    def development(self) -> bool:
        return not self.production

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


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{key} must be a number, got {raw!r}") from None


def _secret_key(env: Mapping[str, str], data_dir: Path) -> tuple[str, bool]:
    """SECRET_KEY, or one generated once into the data directory (mode 0600); and whether it
    was generated (each node of a deployment would have its own: production refuses that)."""
    if env.get("SECRET_KEY"):
        key = env["SECRET_KEY"]
        if len(key) < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters")
        return key, False
    path = data_dir / _KEY_FILE
    if path.exists():
        return path.read_text().strip(), True
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key, True


def _key_ids(raw: str) -> dict[str, str]:
    """``session=2,csrf=2`` → {"session": "2", "csrf": "2"}; ids are 1-16 letters or digits."""
    found: dict[str, str] = {}
    for part in filter(None, (item.strip() for item in raw.split(","))):
        purpose, _, key_id = part.partition("=")
        if purpose not in keys.PURPOSES or not (key_id.isascii() and key_id.isalnum() and len(key_id) <= 16):
            raise ConfigurationError(f"KEY_IDS: {part!r} is not <purpose>=<id> with a purpose of "
                                     f"{', '.join(keys.PURPOSES)}")
        found[purpose] = key_id
    return found


def _production(env: Mapping[str, str], public_url: str) -> bool:
    """``PORTAL_MODE`` (``production`` or ``development``); unset: production exactly when the
    public URL is ``https://`` (a site the public reaches is never a development machine)."""
    mode = (env.get("PORTAL_MODE") or "").lower()
    if mode not in ("", "production", "development"):
        raise ConfigurationError("PORTAL_MODE must be production or development")
    return mode == "production" or (not mode and public_url.startswith("https://"))


def _browsable(host: str) -> str:
    """Listening on every interface (0.0.0.0, ::) is reachable on loopback from this machine."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104


def _public_url(url: str) -> str:
    """https, or plain http only for a development host (loopback or a name without a dot):
    links in notifications and the OAuth token endpoint must never lead to plain http in
    production (RFC 6749 §3.2)."""
    parts = urlsplit(url.rstrip("/"))
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost" or "." not in host
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        return url.rstrip("/")
    raise ConfigurationError("PUBLIC_URL must be https:// (plain http only for a development host)")


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


def _tls_mode(raw: str) -> TlsMode:
    try:
        return TlsMode(raw.lower())
    except ValueError:
        raise ConfigurationError("SMTP_TLS must be starttls, implicit or none") from None


def _smtp(env: Mapping[str, str]) -> SmtpConfig | None:
    host = env.get("SMTP_HOST", "")
    if not host:
        return None
    if not env.get("SMTP_FROM"):
        raise ConfigurationError("SMTP_HOST is set: SMTP_FROM (the sender address) is required")
    try:
        return SmtpConfig(
            host=host,
            port=_int(env, "SMTP_PORT", 587),
            from_address=env["SMTP_FROM"],
            from_name=env.get("SMTP_FROM_NAME") or "行政执法服务平台",
            tls=_tls_mode(env.get("SMTP_TLS") or "starttls"),
            username=env.get("SMTP_USERNAME") or None,
            password=env.get("SMTP_PASSWORD") or None,
            timeout=_float(env, "SMTP_TIMEOUT", 30.0),
            ca_file=env.get("SMTP_CA_FILE") or None,
        )
    except ChannelMisconfigured as exc:
        raise ConfigurationError(f"SMTP settings: {exc}") from None


def _sms(env: Mapping[str, str]) -> SmsGatewayConfig | None:
    url = env.get("SMS_GATEWAY_URL", "")
    if not url:
        return None
    try:
        return SmsGatewayConfig(
            url=url,
            api_key=env.get("SMS_API_KEY", ""),
            sender_id=env.get("SMS_SENDER_ID") or "portal",
            signature_name=env.get("SMS_SIGNATURE") or "行政执法平台",
            timeout=_float(env, "SMS_TIMEOUT", 10.0),
        )
    except ChannelMisconfigured as exc:
        raise ConfigurationError(f"SMS gateway settings: {exc}") from None


def _notifications(env: Mapping[str, str]) -> NotificationSettings:
    config = NotificationSettings(
        smtp=_smtp(env),
        sms=_sms(env),
        batch_size=_int(env, "NOTIFY_BATCH_SIZE", 20),
        lease_seconds=_int(env, "NOTIFY_LEASE_SECONDS", 300),
        poll_seconds=_float(env, "NOTIFY_POLL_SECONDS", 2.0),
        max_attempts=_int(env, "NOTIFY_MAX_ATTEMPTS", 12),
        retry_base_seconds=_int(env, "NOTIFY_RETRY_BASE_SECONDS", 60),
        party_limit_per_hour=_int(env, "NOTIFY_PARTY_LIMIT_PER_HOUR", 20),
        global_limit_per_minute=_int(env, "NOTIFY_GLOBAL_LIMIT_PER_MINUTE", 600),
        reminder_interval_seconds=_int(env, "REMINDER_INTERVAL_SECONDS", 300),
    )
    counts = ("batch_size", "max_attempts", "retry_base_seconds", "party_limit_per_hour",
              "global_limit_per_minute", "reminder_interval_seconds")
    if any(getattr(config, name) < 1 for name in counts) or not config.poll_seconds > 0:
        raise ConfigurationError("NOTIFY_* and REMINDER_* values must be positive")
    if config.lease_seconds <= config.send_timeout_seconds:
        # A lease shorter than a send would let a second worker send the same message.
        raise ConfigurationError(
            f"NOTIFY_LEASE_SECONDS must exceed the send timeout ({config.send_timeout_seconds:g} s)")
    return config


_PKCS11_KEYS = ("PORTAL_SEAL_PKCS11_MODULE", "PORTAL_SEAL_PKCS11_TOKEN", "PORTAL_SEAL_PKCS11_KEY_LABEL",
                "PORTAL_SEAL_PKCS11_PIN")


def _seal_pkcs11(env: Mapping[str, str]) -> Pkcs11Config | None:
    """The portal's seal in an HSM: all four ``PORTAL_SEAL_PKCS11_*`` keys, or none."""
    if not any(env.get(key) for key in _PKCS11_KEYS):
        return None
    missing = [key for key in _PKCS11_KEYS if not env.get(key)]
    if missing:
        raise ConfigurationError(f"PORTAL_SEAL_PKCS11_* is incomplete; missing: {', '.join(missing)}")
    return Pkcs11Config(module=Path(env["PORTAL_SEAL_PKCS11_MODULE"]).resolve(),
                        token_label=env["PORTAL_SEAL_PKCS11_TOKEN"],
                        key_label=env["PORTAL_SEAL_PKCS11_KEY_LABEL"],
                        pin=env["PORTAL_SEAL_PKCS11_PIN"])


def _signing(env: Mapping[str, str]) -> SigningSettings:
    token, p12 = _seal_pkcs11(env), env.get("PORTAL_SEAL_P12", "")
    if token is not None and p12:
        raise ConfigurationError(
            "the portal's seal comes from PORTAL_SEAL_P12 or PORTAL_SEAL_PKCS11_*, not both: unset one")
    sm2_key, sm2_cert, sm2_seal = (env.get(f"PORTAL_SEAL_SM2_{key}", "") for key in ("KEY", "CERT", "SEAL"))
    if bool(sm2_key) != bool(sm2_cert):
        raise ConfigurationError("PORTAL_SEAL_SM2_KEY and PORTAL_SEAL_SM2_CERT go together")
    if sm2_seal and not sm2_key:
        raise ConfigurationError("PORTAL_SEAL_SM2_SEAL needs its key: set PORTAL_SEAL_SM2_KEY and _CERT")
    roots, tsa_url = env.get("TRUST_ROOTS_DIR", ""), env.get("TSA_URL", "")
    production = {"TRUST_ROOTS_DIR": bool(roots), "TSA_URL": bool(tsa_url),
                  "PORTAL_SEAL_P12, PORTAL_SEAL_PKCS11_* or PORTAL_SEAL_SM2_*": bool(p12 or token or sm2_key)}
    if any(production.values()) and not all(production.values()):
        missing = ", ".join(key for key, given in production.items() if not given)
        raise ConfigurationError(
            f"TRUST_ROOTS_DIR, the portal's seal and TSA_URL go together; missing: {missing}")
    if tsa_url and not tsa_url.startswith(("https://", "http://")):
        raise ConfigurationError("TSA_URL must be an http(s) URL")
    config = SigningSettings(
        trust_roots_dir=Path(roots).resolve() if roots else None,
        portal_seal_p12=Path(p12).resolve() if p12 else None,
        portal_seal_p12_password=env.get("PORTAL_SEAL_P12_PASSWORD") or None,
        portal_seal_pkcs11=token,
        portal_seal_sm2_key=Path(sm2_key).resolve() if sm2_key else None,
        portal_seal_sm2_key_password=env.get("PORTAL_SEAL_SM2_KEY_PASSWORD") or None,
        portal_seal_sm2_cert=Path(sm2_cert).resolve() if sm2_cert else None,
        portal_seal_sm2_seal=Path(sm2_seal).resolve() if sm2_seal else None,
        tsa_url=tsa_url or None,
        verify_workers=_int(env, "VERIFY_WORKERS", 2),
        verify_uploads_per_minute=_int(env, "VERIFY_UPLOADS_PER_MINUTE", 20),
        revocation_hosts=tuple(host.strip().lower() for host in env.get("REVOCATION_HOSTS", "").split(",")
                               if host.strip()),
    )
    if config.verify_workers < 1 or config.verify_uploads_per_minute < 1:
        raise ConfigurationError("VERIFY_WORKERS and VERIFY_UPLOADS_PER_MINUTE must be positive")
    return config


RECEIPT_FORMATS = ("pdf", "ofd")
"""The documents a fiscal e-receipt can be issued as, in the order they are offered."""


def _receipt_formats(env: Mapping[str, str], signing: SigningSettings) -> tuple[str, ...]:
    has_ofd_seal = signing.development or signing.portal_seal_sm2_seal is not None
    given = env.get("RECEIPT_FORMATS", "")
    if not given:
        return RECEIPT_FORMATS if has_ofd_seal else ("pdf",)
    chosen = {name.strip().lower() for name in given.split(",")}
    if not chosen <= set(RECEIPT_FORMATS):
        raise ConfigurationError("RECEIPT_FORMATS must be pdf, ofd or pdf,ofd")
    if "ofd" in chosen and not has_ofd_seal:
        raise ConfigurationError("RECEIPT_FORMATS=ofd needs the portal's GB/T 38540 seal: set "
                                 "PORTAL_SEAL_SM2_KEY, _CERT and _SEAL")
    return tuple(name for name in RECEIPT_FORMATS if name in chosen)


def _payments(env: Mapping[str, str], signing: SigningSettings) -> PaymentSettings:
    formats = _receipt_formats(env, signing)
    platform = (env.get("PAYMENT_PLATFORM") or "sandbox").lower()
    prefix = env.get("RECEIPT_CODE_PREFIX") or "3501"
    if not (len(prefix) == 4 and prefix.isascii() and prefix.isdigit()):
        raise ConfigurationError("RECEIPT_CODE_PREFIX must be 4 digits")
    hour = _int(env, "RECONCILE_HOUR", 2)
    if not 0 <= hour <= 23:
        raise ConfigurationError("RECONCILE_HOUR must be an hour of the day, 0 to 23")
    processes = _int(env, "RECEIPT_PROCESSES", os.cpu_count() or 1)
    if not 0 <= processes <= 64:
        raise ConfigurationError("RECEIPT_PROCESSES must be 0 to 64")
    keys = ("NONTAX_GATEWAY_URL", "NONTAX_APP_ID", "NONTAX_PRIVATE_KEY", "NONTAX_PLATFORM_KEY")
    if platform == "sandbox":
        if any(env.get(key) for key in (*keys, "NONTAX_PAY_ORIGIN")):
            # a half-made switch to the real platform must not silently keep the sandbox
            raise ConfigurationError("NONTAX_* is set: also set PAYMENT_PLATFORM=nontax")
        return PaymentSettings(receipt_code_prefix=prefix, reconcile_hour=hour, receipt_formats=formats,
                               receipt_processes=processes)
    if platform != "nontax":
        raise ConfigurationError("PAYMENT_PLATFORM must be sandbox or nontax")
    missing = [key for key in keys if not env.get(key)]
    if missing:
        raise ConfigurationError(f"PAYMENT_PLATFORM=nontax needs {', '.join(missing)}")
    gateway = env["NONTAX_GATEWAY_URL"]
    if not gateway.startswith("https://"):
        raise ConfigurationError("NONTAX_GATEWAY_URL must be https://")
    pay_origin = env.get("NONTAX_PAY_ORIGIN") or gateway
    parts = urlsplit(pay_origin)
    return PaymentSettings(platform="nontax", receipt_code_prefix=prefix, nontax=NontaxSettings(
        gateway_url=gateway, app_id=env["NONTAX_APP_ID"],
        private_key_pem=Path(env["NONTAX_PRIVATE_KEY"]).resolve(),
        platform_key_pem=Path(env["NONTAX_PLATFORM_KEY"]).resolve(),
        pay_origin=f"{parts.scheme}://{parts.netloc}"), reconcile_hour=hour, receipt_formats=formats,
        receipt_processes=processes)


def _service_desk(env: Mapping[str, str]) -> ServiceDeskSettings:
    province = (env.get("PORTAL_PROVINCE") or "fujian").lower()
    if province not in PROVINCES:
        raise ConfigurationError(f"PORTAL_PROVINCE must be one of {', '.join(PROVINCES)}")
    line = env.get("HELP_LINE") or "12345"
    if len(line) > 40 or not all(char.isdigit() or char in " -+()" for char in line):
        raise ConfigurationError("HELP_LINE must be a telephone number (digits, spaces, - + ( ))")
    name = env.get("HELP_LINE_NAME") or ("政务服务便民热线" if line == "12345" else "服务热线")
    if len(name) > 40:
        raise ConfigurationError("HELP_LINE_NAME must be at most 40 characters")
    return ServiceDeskSettings(province=province, help_line=line, help_line_name=name)


def _s3(env: Mapping[str, str]) -> S3Settings:
    bucket = env.get("S3_BUCKET", "")
    if not bucket:
        raise ConfigurationError("BLOB_STORE=s3 needs S3_BUCKET")
    endpoint = env.get("S3_ENDPOINT_URL") or None
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ConfigurationError("S3_ENDPOINT_URL must be an http(s) URL")
    key_id, secret = env.get("S3_ACCESS_KEY_ID") or None, env.get("S3_SECRET_ACCESS_KEY") or None
    if (key_id is None) != (secret is None):
        raise ConfigurationError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together")
    prefix = env.get("S3_PREFIX", "blobs/")
    if prefix.startswith("/") or ".." in prefix:
        raise ConfigurationError("S3_PREFIX must be a relative key prefix such as blobs/")
    return S3Settings(bucket=bucket, endpoint_url=endpoint, region=env.get("S3_REGION") or "us-east-1",
                      access_key_id=key_id, secret_access_key=secret, prefix=prefix)


def _blobs(env: Mapping[str, str], data_dir: Path, *, sqlite: bool) -> BlobSettings:
    store = (env.get("BLOB_STORE") or ("files" if sqlite else "database")).lower()
    if store not in BLOB_STORES:
        raise ConfigurationError(f"BLOB_STORE must be one of {', '.join(BLOB_STORES)}")
    if store == "database" and sqlite:
        # one writer at a time: a document stored inside an open write transaction would wait
        # for that very transaction
        raise ConfigurationError("BLOB_STORE=database needs PostgreSQL; on SQLite use files or s3")
    directory = Path(env.get("BLOB_DIR") or data_dir / "blobs").resolve()
    return BlobSettings(store=store, directory=directory, s3=_s3(env) if store == "s3" else None)


def _postgres_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    return url


def _database(env: Mapping[str, str], *, sqlite: bool) -> DatabaseSettings:
    pooling = (env.get("DATABASE_TRANSACTION_POOLING") or "").lower()
    if pooling not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ConfigurationError("DATABASE_TRANSACTION_POOLING must be 1 or 0")
    replica = _postgres_url(env.get("DATABASE_REPLICA_URL", "")) or None
    if replica is not None and (sqlite or not replica.startswith("postgresql+asyncpg://")):
        raise ConfigurationError("DATABASE_REPLICA_URL needs PostgreSQL (postgresql://…) for both")
    config = DatabaseSettings(transaction_pooling=pooling in ("1", "true", "yes"), replica_url=replica,
                              pool_size=_int(env, "DATABASE_POOL_SIZE", 10),
                              max_overflow=_int(env, "DATABASE_MAX_OVERFLOW", 20))
    if config.pool_size < 1 or config.max_overflow < 0:
        raise ConfigurationError("DATABASE_POOL_SIZE must be positive, DATABASE_MAX_OVERFLOW not negative")
    return config


def _directory(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("METRICS_TOKEN") or None
    if token is not None and len(token) < 32:
        raise ConfigurationError("METRICS_TOKEN must be at least 32 characters")
    return token


def _checkpoint_seconds(env: Mapping[str, str]) -> int:
    seconds = _int(env, "EVIDENCE_CHECKPOINT_SECONDS", 600)
    if not 60 <= seconds <= 86_400:
        raise ConfigurationError("EVIDENCE_CHECKPOINT_SECONDS must be from 60 (a minute) to 86400 (a day)")
    return seconds


def _session_lifetimes(env: Mapping[str, str]) -> dict[str, int]:
    """The session's idle and absolute lifetimes and the fresh-login window of legal acts.

    A deployment tunes them to its users (a service hall's shared terminals want short ones),
    within bounds that keep them coherent: the idle warning (WCAG 2.2.1) needs an idle
    lifetime of at least 5 minutes, a fresh login cannot outlive the session it belongs to."""
    idle = _int(env, "SESSION_IDLE_MINUTES", 30)
    absolute = _int(env, "SESSION_ABSOLUTE_HOURS", 12)
    fresh = _int(env, "FRESH_LOGIN_MINUTES", 10)
    if not 5 <= idle <= 240:
        raise ConfigurationError("SESSION_IDLE_MINUTES must be from 5 to 240")
    if not 1 <= absolute <= 24 or idle > absolute * 60:
        raise ConfigurationError("SESSION_ABSOLUTE_HOURS must be from 1 to 24 and not shorter than "
                                 "SESSION_IDLE_MINUTES")
    if not 1 <= fresh <= idle:
        raise ConfigurationError("FRESH_LOGIN_MINUTES must be from 1 to SESSION_IDLE_MINUTES")
    return {"session_idle_minutes": idle, "session_absolute_hours": absolute, "fresh_login_minutes": fresh}


def export_to_server_processes(key: str, value: str) -> None:
    """Put ``key`` into the environment that ``portal serve --workers N``'s server processes
    start with: they read their settings from it, as the command itself did."""
    os.environ[key] = value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR", "./var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = env.get("HOST", "127.0.0.1")
    port = _int(env, "PORT", 8000)
    database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'portal.db'}"
    database_url = _postgres_url(database_url)
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigurationError("DATABASE_URL must be sqlite+aiosqlite:// or postgresql+asyncpg://")
    public_url = _public_url(env.get("PUBLIC_URL") or f"http://{_browsable(host)}:{port}")
    secret_key, generated = _secret_key(env, data_dir)
    signing = _signing(env)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        secret_key_generated=generated,
        key_ids=_key_ids(env.get("KEY_IDS", "")),
        production=_production(env, public_url),
        public_url=public_url,
        host=host,
        port=port,
        oidc=_oidc(env),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 25 * 1024 * 1024),
        **_session_lifetimes(env),
        trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        notifications=_notifications(env),
        signing=signing,
        payments=_payments(env, signing),
        service_desk=_service_desk(env),
        blobs=_blobs(env, data_dir, sqlite=database_url.startswith("sqlite")),
        database=_database(env, sqlite=database_url.startswith("sqlite")),
        dev_keys_dir=_directory(Path(env.get("DEV_KEYS_DIR") or data_dir).resolve()),
        metrics_token=_metrics_token(env),
        metrics_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None,
        evidence_checkpoint_seconds=_checkpoint_seconds(env),
    )
