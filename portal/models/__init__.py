"""ORM tables, one module per aggregate. Importing this package registers every table."""

from portal.models.agencies import Agency, ApiClient, ApiToken
from portal.models.cases import Case, CaseOfficer, CaseParty
from portal.models.dev_idp import DevIdpCode
from portal.models.evidence import ChainHead, EvidenceEvent
from portal.models.limits import RateLimitWindow
from portal.models.outbox import (
    Notice,
    NotificationPreference,
    OutboxAttempt,
    OutboxMessage,
    ReminderDeadline,
)
from portal.models.parties import Account, Party, Representation
from portal.models.sessions import WebSession

__all__ = [
    "Account",
    "Agency",
    "ApiClient",
    "ApiToken",
    "Case",
    "CaseOfficer",
    "CaseParty",
    "ChainHead",
    "DevIdpCode",
    "EvidenceEvent",
    "Notice",
    "NotificationPreference",
    "OutboxAttempt",
    "OutboxMessage",
    "Party",
    "RateLimitWindow",
    "ReminderDeadline",
    "Representation",
    "WebSession",
]
