"""E-mail over SMTP with aiosmtplib: one connection per message, errors sorted by retry value.

The message is a plain-text `EmailMessage` in UTF-8: the Chinese subject and the sender's
display name become RFC 2047 encoded words, the body a base64 UTF-8 part, so every byte on the
wire is ASCII. Its
Message-ID is derived from the dedupe key, so if a message is sent twice (delivery is
at-least-once: a connection can drop after the server accepted the data) both copies carry the
same Message-ID and a mail client or a human can tell.

SMTP reply codes decide what a failure means: 4xx is "try again later", 5xx is final
(RFC 5321 §4.2.1). A refused connection or a timeout is temporary; a refused login, a server
that does not offer the STARTTLS we require, or a certificate we cannot trust is our
misconfiguration.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from enum import StrEnum

import aiosmtplib

from notifications.channels.base import DeliveryResult, message_reference
from notifications.errors import (
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryError,
    MessageRejected,
    PermanentFailure,
    RecipientRejected,
)
from notifications.messages import Rendered

__all__ = ["SmtpChannel", "SmtpConfig", "TlsMode"]

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class TlsMode(StrEnum):
    """How the connection to the SMTP server is protected."""

    NONE = "none"  # plain text: only for a relay on the same host, never with credentials
    STARTTLS = "starttls"  # upgrade is required; without it nothing is sent (port 587)
    IMPLICIT = "implicit"  # TLS from the first byte (port 465)


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send e-mail; checked on construction.

    `ca_file` names the trust anchors for the server's certificate when it is not issued by a
    CA in the system store (a government-internal CA); the certificate is always verified.
    Credentials are refused without TLS: they would cross the network in clear.
    """

    host: str
    port: int
    from_address: str
    from_name: str = "行政执法服务平台"
    tls: TlsMode = TlsMode.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "tls", TlsMode(self.tls))
        except ValueError:
            raise ChannelMisconfigured(f"unknown TLS mode {self.tls!r}") from None
        if not self.host or not 0 < self.port < 65536:
            raise ChannelMisconfigured("SMTP host and a port between 1 and 65535 are required")
        if not self.timeout > 0:
            raise ChannelMisconfigured("SMTP timeout must be positive")
        if (self.username is None) != (self.password is None):
            raise ChannelMisconfigured("SMTP username and password go together")
        if self.username is not None and self.tls is TlsMode.NONE:
            raise ChannelMisconfigured("SMTP credentials need STARTTLS or implicit TLS")
        if self.tls is TlsMode.NONE and self.host not in _LOCAL_HOSTS:
            raise ChannelMisconfigured("plain SMTP is only allowed to a relay on this host")
        try:
            sender = Address(addr_spec=self.from_address)
        except (ValueError, IndexError):
            raise ChannelMisconfigured("from_address is not an e-mail address") from None
        if not sender.domain or not self.from_address.isascii():
            raise ChannelMisconfigured("from_address needs an ASCII domain")


class SmtpChannel:
    """Sends one rendered e-mail per call to the configured SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._from = email.utils.formataddr((config.from_name, config.from_address),
                                            charset="utf-8")
        self._domain = Address(addr_spec=config.from_address).domain

    def compose(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> EmailMessage:
        """The e-mail as it goes on the wire; raises ValueError for an unusable recipient.

        The headers are encoded here (RFC 2047 words for the Chinese ones, folded) and stored
        as they go out: the email package's own folding of non-ASCII headers costs a worker
        milliseconds per message, more than everything else it does for an e-mail.
        """
        if rendered.subject is None:
            raise ValueError("an e-mail needs a subject")
        if not recipient.isascii():
            # Internationalised addresses need SMTPUTF8 end to end; we do not rely on it.
            raise ValueError("only ASCII e-mail addresses are supported")
        to = Address(addr_spec=recipient)
        if not to.username or not to.domain:
            raise ValueError("not an e-mail address")
        message = EmailMessage(policy=email.policy.SMTP)
        for name, value in (
            ("From", self._from),
            ("To", to.addr_spec),
            ("Subject", Header(rendered.subject, "utf-8", header_name="Subject").encode()),
            ("Date", email.utils.format_datetime(datetime.now(UTC))),
            ("Message-ID", f"<{message_reference(dedupe_key)}@{self._domain}>"),
            # RFC 3834: no out-of-office replies to a machine.
            ("Auto-Submitted", "auto-generated"),
            ("Content-Language", "zh-CN"),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'text/plain; charset="utf-8"'),
            # base64 keeps the whole message 7-bit: no reliance on the server's 8BITMIME.
            ("Content-Transfer-Encoding", "base64"),
        ):
            message.set_raw(name, value)
        message.set_payload(_base64_lines(rendered.body))
        return message

    @staticmethod
    def wire(message: EmailMessage) -> bytes:
        """A composed message's bytes, exactly what ``message.as_bytes()`` gives.

        Each header is folded by the message's policy, as the generator does it; the generator
        itself also parses ``Content-Type`` and ``Content-Transfer-Encoding`` back into header
        objects to decide how to write the body, which costs more than composing the message.
        A composed body needs no decision: it is base64 text, written with CRLF line ends.
        """
        policy = message.policy
        head = b"".join(policy.fold_binary(name, value) for name, value in message.raw_items())
        body = message.get_payload()
        if not isinstance(body, str) or not body.isascii() or "\r" in body:
            return message.as_bytes()  # not a composed message: let the generator decide
        linesep = policy.linesep
        return head + linesep.encode() + body.replace("\n", linesep).encode("ascii")

    @staticmethod
    def message_id(message: EmailMessage) -> str:
        """The Message-ID a composed message carries, as it was set (no header parsing)."""
        return next(value for name, value in message.raw_items() if name == "Message-ID")

    async def send(self, rendered: Rendered, recipient: str, *, dedupe_key: str) -> DeliveryResult:
        """Connect, say EHLO, upgrade and log in as configured, send, disconnect."""
        try:
            message = self.compose(rendered, recipient, dedupe_key=dedupe_key)
        except (ValueError, IndexError):
            return DeliveryResult.failed(RecipientRejected("recipient is not a usable address"))
        config = self.config
        try:
            _, reply = await aiosmtplib.send(
                message,
                sender=config.from_address,
                recipients=[recipient],
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.tls is TlsMode.IMPLICIT,
                start_tls=config.tls is TlsMode.STARTTLS,
                validate_certs=True,
                cert_bundle=config.ca_file,
                timeout=config.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.failed(_classify(exc, recipient))
        return DeliveryResult.delivered(message["Message-ID"], _scrub(f"250 {reply}", recipient))


def _base64_lines(text: str) -> str:
    """The body as ``set_content(cte="base64")`` writes it: CRLF line ends, 76-column lines."""
    data = b"\r\n".join(text.encode("utf-8").splitlines()) + b"\r\n"
    return base64.encodebytes(data).decode("ascii")


def _scrub(text: str, recipient: str) -> str:
    """One log line without the recipient's address (servers like to echo it)."""
    line = " ".join(text.split()).replace(recipient, "<recipient>")
    return line[:200]


def _reply(
    code: int, text: str, recipient: str, permanent: type[PermanentFailure]
) -> DeliveryError:
    detail = _scrub(f"SMTP {code} {text}", recipient)
    if 400 <= code < 500:
        return DeliveryDeferred(detail, status_code=code)
    if 500 <= code < 600:
        return permanent(detail, status_code=code)
    return ChannelUnavailable(detail, status_code=code)


def _untrusted_certificate(exc: BaseException) -> bool:
    """Whether a certificate check failed anywhere in the exception's chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _classify(exc: Exception, recipient: str) -> DeliveryError:
    """Map aiosmtplib's exceptions onto our tree: temporary, permanent, or our own fault."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0]
        return _reply(refused.code, refused.message, recipient, RecipientRejected)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return _reply(exc.code, exc.message, recipient, MessageRejected)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Refused login, refused sender, refused greeting: the server does not accept *us*.
        return _reply(exc.code, exc.message, recipient, ChannelMisconfigured)
    if _untrusted_certificate(exc):
        return ChannelMisconfigured("SMTP server certificate is not trusted")
    if isinstance(exc, OSError | aiosmtplib.SMTPTimeoutError):
        # Connection refused, reset or timed out (aiosmtplib's connection errors are OSErrors).
        return ChannelUnavailable(_scrub(f"SMTP connection failed: {exc}", recipient))
    # What is left are refusals to go on: no STARTTLS or AUTH offered, SMTPUTF8 missing.
    return ChannelMisconfigured(_scrub(f"SMTP: {exc}", recipient))
