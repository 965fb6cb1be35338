"""ORM tables, one module per aggregate. Importing this package registers every table."""

from portal.models.agencies import Agency, ApiClient, ApiToken
from portal.models.blobs import StoredBlob
from portal.models.calendar import HolidayDay, HolidayTableLoad
from portal.models.cases import Case, CaseOfficer, CaseParty
from portal.models.dev_idp import DevIdpCode
from portal.models.eservice import (
    ArrivalTimestamp,
    Consent,
    ConsentRevocation,
    Delivery,
    DeliveryRead,
    PaperCopyRequest,
    PartyKey,
    ServiceReceipt,
)
from portal.models.evidence import ChainHead, CheckpointHead, EvidenceCheckpoint, EvidenceEvent
from portal.models.jobs import Job
from portal.models.limits import RateLimitWindow
from portal.models.outbox import (
    Notice,
    NotificationPreference,
    OutboxAttempt,
    OutboxMessage,
    ReminderDeadline,
)
from portal.models.parties import Account, Party, Representation, RepresentationAuthorisation
from portal.models.payments import (
    Fine,
    OrderTransition,
    PaymentNonce,
    PaymentNotification,
    PaymentOrder,
    PaymentRecord,
    PaymentSecurityEvent,
    Reconciliation,
    Refund,
)
from portal.models.publicity import (
    Publication,
    PublicationSubject,
    PublicationVersion,
    PublicationWithdrawal,
)
from portal.models.receipts import (
    FiscalReceipt,
    ReceiptCounter,
    ReceiptDocument,
    ReceiptVerificationCount,
)
from portal.models.rights import (
    AgencyWebhook,
    ObjectionAnswer,
    Submission,
    SubmissionAcknowledgement,
    SubmissionAttachment,
    SubmissionReceipt,
)
from portal.models.sessions import FormDraft, FormDraftFile, WebSession
from portal.models.verification import VerificationReportRecord

__all__ = [
    "Account",
    "Agency",
    "AgencyWebhook",
    "ApiClient",
    "ApiToken",
    "ArrivalTimestamp",
    "Case",
    "CaseOfficer",
    "CaseParty",
    "ChainHead",
    "CheckpointHead",
    "Consent",
    "ConsentRevocation",
    "Delivery",
    "DeliveryRead",
    "DevIdpCode",
    "EvidenceCheckpoint",
    "EvidenceEvent",
    "Fine",
    "FiscalReceipt",
    "FormDraft",
    "FormDraftFile",
    "HolidayDay",
    "HolidayTableLoad",
    "Job",
    "Notice",
    "NotificationPreference",
    "ObjectionAnswer",
    "OrderTransition",
    "OutboxAttempt",
    "OutboxMessage",
    "PaperCopyRequest",
    "Party",
    "PartyKey",
    "PaymentNonce",
    "PaymentNotification",
    "PaymentOrder",
    "PaymentRecord",
    "PaymentSecurityEvent",
    "Publication",
    "PublicationSubject",
    "PublicationVersion",
    "PublicationWithdrawal",
    "RateLimitWindow",
    "ReceiptCounter",
    "ReceiptDocument",
    "ReceiptVerificationCount",
    "Reconciliation",
    "Refund",
    "ReminderDeadline",
    "Representation",
    "RepresentationAuthorisation",
    "ServiceReceipt",
    "StoredBlob",
    "Submission",
    "SubmissionAcknowledgement",
    "SubmissionAttachment",
    "SubmissionReceipt",
    "VerificationReportRecord",
    "WebSession",
]
