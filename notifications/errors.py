"""Every error the notifications library raises or reports, as one tree.

```
NotificationError
 ├── TemplateError                  the message cannot be rendered: the caller's bug, never retried
 │    ├── UnknownTemplate           no template for this kind, channel or version
 │    └── ContextRejected           context keys not whitelisted or missing, or a value of the
 │         │                        wrong shape (names the keys, never the values)
 │         └── PersonalDataRejected an SMS or e-mail would carry an ID number, a phone number or
 │                                  an amount
 └── DeliveryError                  a channel could not hand the message over; carries `code`
      ├── TemporaryFailure          try the same message again later
      │    ├── ChannelUnavailable   connection refused or reset, timeout, gateway 5xx
      │    └── DeliveryDeferred     the server answered "not now": SMTP 4xx, HTTP 429
      └── PermanentFailure          sending the same message again cannot succeed
           ├── RecipientRejected    the address or number does not exist or is refused (SMTP 5xx
           │                        on RCPT, gateway "invalid recipient")
           ├── MessageRejected      the content was refused (SMTP 5xx on DATA, gateway 4xx)
           └── ChannelMisconfigured our side is wrong: bad credentials, TLS not offered or not
                                    trusted, a config value out of range
```

Channels do not raise `DeliveryError`; they return it inside a `DeliveryResult`, because the
worker records every attempt whatever its outcome. `DeliveryResult.raise_for_status()` turns a
failed result back into the exception for callers that prefer one.

`detail` texts are meant for the attempt log: they never contain the recipient's address or
number, names or document contents (SECURITY.md, logging: v5.0.0-16.2.5).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ChannelMisconfigured",
    "ChannelUnavailable",
    "ContextRejected",
    "DeliveryDeferred",
    "DeliveryError",
    "MessageRejected",
    "NotificationError",
    "PermanentFailure",
    "PersonalDataRejected",
    "RecipientRejected",
    "TemplateError",
    "TemporaryFailure",
    "UnknownTemplate",
]


class NotificationError(Exception):
    """Base of every error of the notifications library."""


class TemplateError(NotificationError):
    """A message cannot be rendered; fix the caller, retrying is pointless."""


class UnknownTemplate(TemplateError):
    """No template exists for the requested kind, channel or version."""


class ContextRejected(TemplateError):
    """The context does not match the template's whitelist.

    Only key names are kept, so the error can be logged without leaking what the caller tried
    to put into a text.
    """

    def __init__(
        self,
        template: str,
        *,
        unknown: Iterable[str] = (),
        missing: Iterable[str] = (),
        invalid: Iterable[str] = (),
    ) -> None:
        self.template = template
        self.unknown = tuple(sorted(unknown))
        self.missing = tuple(sorted(missing))
        self.invalid = tuple(sorted(invalid))
        parts = [
            f"{label}: {', '.join(keys)}"
            for label, keys in (
                ("not allowed", self.unknown),
                ("missing", self.missing),
                ("invalid", self.invalid),
            )
            if keys
        ]
        super().__init__(f"context rejected for {template} ({'; '.join(parts)})")


class PersonalDataRejected(ContextRejected):
    """A rendered SMS or e-mail would carry personal data the law does not require.

    `found` names what was found ("id_number", "phone_number", "amount"), never the value.
    """

    def __init__(self, template: str, *, found: Iterable[str]) -> None:
        self.found = tuple(sorted(found))
        super().__init__(template, invalid=self.found)


class DeliveryError(NotificationError):
    """A channel could not deliver a message.

    `code` is a stable machine name for the attempt log and the outbox row; `status_code` is
    the SMTP reply code or HTTP status when the other side answered at all.
    """

    code = "delivery_error"

    def __init__(self, detail: str, *, status_code: int | None = None) -> None:
        self.detail = detail
        self.status_code = status_code
        super().__init__(detail)


class TemporaryFailure(DeliveryError):
    """Try again later: the message itself is fine."""

    code = "temporary_failure"


class ChannelUnavailable(TemporaryFailure):
    """The server or gateway could not be reached, timed out, or failed on its side."""

    code = "channel_unavailable"


class DeliveryDeferred(TemporaryFailure):
    """The server was reached and asked us to come back later (SMTP 4xx, HTTP 429)."""

    code = "delivery_deferred"


class PermanentFailure(DeliveryError):
    """Sending this message again cannot succeed without a change somewhere."""

    code = "permanent_failure"


class RecipientRejected(PermanentFailure):
    """The recipient's address or number is invalid or refused."""

    code = "recipient_rejected"


class MessageRejected(PermanentFailure):
    """The message content was refused by the server or gateway."""

    code = "message_rejected"


class ChannelMisconfigured(PermanentFailure):
    """Our configuration is wrong: credentials, TLS, addresses or limits.

    Raised directly by config dataclasses on construction; reported in a result when a server
    refuses our credentials or does not offer the TLS we require. The portal should alert an
    operator: every message on this channel fails the same way until the config is fixed.
    """

    code = "channel_misconfigured"
