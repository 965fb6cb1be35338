"""Telling a party that something needs their attention; never the service itself.

This library owns the message kinds and their versioned Chinese texts per channel (with the
whitelist that keeps personal data out of SMS and e-mail), the channels (e-mail over SMTP, SMS
through an HTTP gateway with a sandbox twin, the in-portal notice, a fake for tests), the retry
policy, the rate-limit decision and an outbox row's claim. It is stateless: a `Message` value
goes in, a `Rendered` text and a `DeliveryResult` come out, and retry, limit and claim
decisions are pure functions of values the caller supplies. The outbox table, the worker that
drains it with `FOR UPDATE SKIP LOCKED`, the notice table and the settings page belong to
`portal`, which builds on this API; this package imports no part of the portal, no web
framework and no ORM.
"""

from notifications.catalogue import LINK_PATHS, TEMPLATES, Template
from notifications.channels.base import (
    BatchChannel,
    Channel,
    DeliveryResult,
    DeliveryStatus,
    Outgoing,
)
from notifications.channels.fake import FakeChannel, FakeDelivery
from notifications.channels.inbox import InboxChannel, InboxNotice, NoticeStore
from notifications.channels.sms import HttpSmsChannel, SmsGatewayConfig
from notifications.channels.sms_sandbox import SandboxSms, SandboxSmsGateway, sandbox_channel
from notifications.channels.smtp import SmtpChannel, SmtpConfig, TlsMode
from notifications.claims import Claim, Defer, GiveUp, Lease, claim
from notifications.errors import (
    ChannelMisconfigured,
    ChannelUnavailable,
    ContextRejected,
    DeliveryDeferred,
    DeliveryError,
    MessageRejected,
    NotificationError,
    PermanentFailure,
    PersonalDataRejected,
    RecipientRejected,
    TemplateError,
    TemporaryFailure,
    UnknownTemplate,
)
from notifications.limits import LimitDecision, LimitScope, RateLimit, RateLimits, check_limits
from notifications.messages import ChannelKind, Kind, Message, Rendered, dedupe_key
from notifications.rendering import Renderer
from notifications.retry import Outcome, RetryPolicy

__all__ = [
    "LINK_PATHS",
    "TEMPLATES",
    "BatchChannel",
    "Channel",
    "ChannelKind",
    "ChannelMisconfigured",
    "ChannelUnavailable",
    "Claim",
    "ContextRejected",
    "Defer",
    "DeliveryDeferred",
    "DeliveryError",
    "DeliveryResult",
    "DeliveryStatus",
    "FakeChannel",
    "FakeDelivery",
    "GiveUp",
    "HttpSmsChannel",
    "InboxChannel",
    "InboxNotice",
    "Kind",
    "Lease",
    "LimitDecision",
    "LimitScope",
    "Message",
    "MessageRejected",
    "NoticeStore",
    "NotificationError",
    "Outcome",
    "Outgoing",
    "PermanentFailure",
    "PersonalDataRejected",
    "RateLimit",
    "RateLimits",
    "RecipientRejected",
    "Rendered",
    "Renderer",
    "RetryPolicy",
    "SandboxSms",
    "SandboxSmsGateway",
    "SmsGatewayConfig",
    "SmtpChannel",
    "SmtpConfig",
    "Template",
    "TemplateError",
    "TemporaryFailure",
    "TlsMode",
    "UnknownTemplate",
    "check_limits",
    "claim",
    "dedupe_key",
    "sandbox_channel",
]
