"""How long the portal keeps each kind of personal information, and why: the one table that the
personal-information notice (``/privacy``, PIPL art. 7, 17, 19) states and the housekeeping
job (``services.housekeeping``, every ten minutes in each worker) enforces, so that what the
page promises is what the code does.

Each ``Kept`` names the tables it covers. ``period`` is how long a row stays after the moment
``runs_from`` names; the housekeeping job deletes it then (``pruned`` is True). ``period``
None means the portal does not delete it: a record of a legal act (GD art. 62(3): enforcement
information may not be tampered with, so those tables refuse DELETE), or data that serves as
long as the person uses the portal; the notice says so and why. Periods that depend on the
deployment (sessions) are passed in from ``Settings``, which the sessions themselves obey.

``tests/portal/test_retention.py`` holds this table to the schema (every table is listed, or
named as holding no personal information) and to the job (each period is enforced to the
day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

SECURITY_EVENTS = timedelta(days=180)
"""Refused payment callbacks: the six months the Cybersecurity Law (art. 21) asks of network logs."""
RATE_WINDOWS = timedelta(days=1)
"""Per-client request counters: useful only while their window runs."""
VERIFICATION_REPORTS = timedelta(hours=24)
"""A seal-verification report (signers' names from the certificates), for its download link."""
NOTIFICATION_MESSAGES = timedelta(days=180)
"""A notification once sent or given up on (address, text, attempts): for complaints about a
message, as long as network logs are kept (Cybersecurity Law art. 21)."""
NOTICES = timedelta(days=365)
"""An in-portal notice: a pointer to something kept elsewhere, for a year's look back."""
DRAFTS = timedelta(days=1)
"""What was typed into a legal act's form and kept across the fresh login the act needed."""
PUBLICATION_SUBJECTS = timedelta(0)
"""Whom a published item concerns (keyed digests): only while the item is public."""


@dataclass(frozen=True)
class Kept:
    """One kind of personal information: where it is, how long it stays, from when, and why."""

    key: str
    """Names its words in ``catalogue.PRIVACY`` (``kept.<key>.*``)."""
    tables: tuple[str, ...]
    period: timedelta | None
    runs_from: str
    """What the period counts from (``catalogue.PRIVACY["from.<runs_from>"]``)."""
    pruned: bool

    @property
    def days(self) -> int | None:
        return self.period.days if self.period is not None else None

    @property
    def hours(self) -> int | None:
        return int(self.period.total_seconds() // 3600) if self.period is not None else None


def kept(*, session_idle_minutes: int) -> tuple[Kept, ...]:
    """Everything the portal keeps about people; sessions as the deployment configures them."""
    session = timedelta(minutes=session_idle_minutes)
    return (
        Kept("identity", ("parties", "accounts", "party_keys"), None, "record", False),
        Kept("session", ("web_sessions",), session, "last_seen", True),
        Kept("drafts", ("form_drafts", "form_draft_files"), DRAFTS, "created", True),
        Kept("consent", ("consents", "consent_revocations"), None, "record", False),
        Kept("delegation", ("representations", "representation_authorisations"), None, "record", False),
        Kept("case", ("cases", "case_parties", "case_officers"), None, "record", False),
        Kept("service", ("deliveries", "delivery_reads", "arrival_timestamps", "service_receipts",
                         "paper_copy_requests", "reminder_deadlines"), None, "record", False),
        Kept("submission", ("submissions", "submission_attachments", "submission_receipts",
                            "submission_acknowledgements", "objection_answers"), None, "record", False),
        Kept("payment", ("fines", "payment_orders", "payment_order_transitions", "payments",
                         "payment_refunds", "payment_notifications", "fiscal_receipts",
                         "receipt_documents"), None, "record", False),
        Kept("contact", ("notification_preferences",), None, "changed", False),
        Kept("messages", ("outbox_messages", "outbox_attempts"), NOTIFICATION_MESSAGES, "finished", True),
        Kept("notices", ("inbox_notices",), NOTICES, "created", True),
        Kept("publicity", ("publications", "publication_versions", "publication_withdrawals"),
             None, "record", False),
        Kept("publication_subjects", ("publication_subjects",), PUBLICATION_SUBJECTS, "public_end", True),
        Kept("verification", ("verification_reports",), VERIFICATION_REPORTS, "created", True),
        Kept("security", ("payment_security_events",), SECURITY_EVENTS, "created", True),
        Kept("limits", ("rate_limit_windows",), RATE_WINDOWS, "window_end", True),
        Kept("evidence", ("evidence_events", "evidence_chain_heads", "evidence_checkpoints",
                          "evidence_checkpoint_heads"), None, "record", False),
        Kept("documents", ("blobs",), None, "record", False),
    )


NO_PERSONAL_DATA = frozenset({
    "agencies", "api_clients", "api_tokens", "agency_webhooks", "holiday_days", "holiday_table_loads",
    "jobs", "receipt_counters", "receipt_verification_counts", "reconciliations", "payment_nonces",
    "alembic_version",
})
"""Tables that hold nothing about a person: agencies' own data, counters, machine state."""

DEVELOPMENT_ONLY = frozenset({"dev_idp_codes"})
"""Tables only the development parts fill (a production configuration cannot start with them):
the embedded identity provider's one-minute login codes."""
