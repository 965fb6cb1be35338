"""Fixtures for the notifications tests: a real SMTP server, TLS material, sample contexts.

The SMTP server is aiosmtpd's `Controller` on 127.0.0.1 and a free port, with a handler that
records what arrives and can be told to refuse (a 4xx or 5xx reply, per recipient or for the
next commands). A message is recorded before the server answers 250, so once `send` returns
the test can read it: nothing here sleeps to wait.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from notifications import ChannelKind, Kind, Message, Renderer, dedupe_key

PORTAL_URL = "https://portal.example.gov.cn"
SMTP_USER, SMTP_PASSWORD = "portal", "correct horse battery staple"

# One valid context per kind and channel (exactly the template's variables).
_FACTS: dict[str, object] = {
    "case_code": "FJ-FZ-2025-000123",
    "document_type": "行政处罚决定书",
    "agency_name": "福州市市场监督管理局",
    "deadline_name": "陈述申辩期限",
    "deadline_date": date(2025, 3, 5),
    "hearing_at": datetime(2025, 3, 20, 1, 30, tzinfo=UTC),
    "hearing_date": date(2025, 3, 20),
    "hearing_time": "09:30",
    "consent_date": date(2025, 2, 1),
    "document_title": "关于某某公司违法行为的行政处罚决定书",
    "arrived_at": datetime(2025, 2, 18, 6, 0, tzinfo=UTC),
    "hearing_place": "福州市鼓楼区某某路1号三楼听证室",
    "amount_fen": 123450,
    "paid_at": datetime(2025, 2, 20, 2, 15, tzinfo=UTC),
    "receipt_number": "0012345678",
    "answered_at": datetime(2025, 3, 2, 8, 0, tzinfo=UTC),
}


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer(PORTAL_URL)


def sample_message(
    renderer: Renderer,
    kind: Kind,
    channel: ChannelKind,
    *,
    recipient: str = "party@example.com",
    event_id: str = "evt-1",
    **overrides: object,
) -> Message:
    """A message whose context holds exactly the allowed keys, plus `overrides`."""
    context = {key: _FACTS[key] for key in renderer.variables(kind, channel)}
    context.update(overrides)
    return Message(
        id=f"{event_id}-{channel}",
        kind=kind,
        channel=channel,
        recipient=recipient,
        context=context,
        dedupe_key=dedupe_key(event_id, channel),
    )


def free_port() -> int:
    """A TCP port nothing listens on (until a test starts a server there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """aiosmtpd handler: records accepted mail and refuses as told."""

    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> reply
    rcpt_replies: list[str] = field(default_factory=list)  # replies for the next RCPTs
    data_replies: list[str] = field(default_factory=list)  # replies for the next DATAs
    sessions: list[Session] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        self.sessions.append(session)
        return "250 2.0.0 accepted"


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a server certificate for 127.0.0.1 signed by it."""

    ca_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Notifications Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return TlsFiles(ca_file, context)


def check_login(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """aiosmtpd authenticator accepting only the test account."""
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(), auth_data.password.decode()
    ) == (SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False)


StartSmtp = Callable[..., Controller]


@pytest.fixture
def start_smtp() -> Iterator[StartSmtp]:
    """Start aiosmtpd on 127.0.0.1 (`port` defaults to a free one); stopped after the test."""
    started: list[Controller] = []

    def start(mailbox: Mailbox, *, port: int | None = None, **options: Any) -> Controller:
        controller = Controller(
            mailbox, hostname="127.0.0.1", port=port or free_port(), **options
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()
