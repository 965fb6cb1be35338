"""Rights exercised through the portal: submissions, what they carry, and what followed them.

A submission (a statement and defence, a hearing request, a recusal request, an application to
defer or pay by instalments, a waiver) is a legal act of the party: its row is only ever
inserted, and its ``submission`` event in the case's evidence chain (``case:<id>``) holds the
SHA-256 of its content and attachments, whose hash the row keeps (``event_hash``), so the table
and the chain can be checked against each other. What follows is a new row beside it, never an
update: the sealed receipt (提交回执), the agency's acknowledgement, an objection's answer. On
PostgreSQL triggers refuse UPDATE and DELETE on all five tables (GD art. 62(3)).

An objection to data (数据异议, GD art. 49; FJ art. 15) is a submission too: about the case's
record (``case_id``), a document served (``delivery_id``, with its case) or a published item
(``publication_id`` and the version objected to; no case: it is recorded in the item's chain
``publication:<id>``). The agency's answer (``ObjectionAnswer``) is a row beside it, once.

``notice_seq`` is the case event (the prior notice) a statement, hearing request or waiver
answers: windows and waivers belong to one prior notice. ``window_kind`` and
``window_last_day`` record the party's window the act fell in, as it stood at that instant
(the receipt states it; a later extension does not rewrite it).

``AgencyWebhook`` is where an agency wants new submissions POSTed: configuration, not a record,
so it is replaced in place; its secret is stored encrypted under a key derived from the
portal's secret (``services.webhooks``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.models.evidence import BigId


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    notice_seq: Mapped[int | None] = mapped_column(Integer)
    window_kind: Mapped[str | None] = mapped_column(String(20))
    window_last_day: Mapped[date | None] = mapped_column(Date)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    submitted_by_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    actor: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)
    delivery_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deliveries.id"))
    publication_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("publications.id"), index=True)
    publication_version: Mapped[int | None] = mapped_column(Integer)
    form_token: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    """The nonce of the one-time token of the form the act came from: a form sent twice files
    once (``portal.web.form_tokens``); none for an act not filed through a page."""


class SubmissionAttachment(Base):
    """A file the party attached; named ``附件<position>.<ext>``, stored under its SHA-256."""

    __tablename__ = "submission_attachments"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    position: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    document_sha256: Mapped[str] = mapped_column(String(64))


class SubmissionReceipt(Base):
    """The submission receipt (提交回执): a PDF sealed and timestamped by the portal."""

    __tablename__ = "submission_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)


class SubmissionAcknowledgement(Base):
    """The agency confirmed, through the API, that it has the submission and will consider it.
    (A 2xx answer to a webhook only ends the webhook's retries: machines answering machines.)"""

    __tablename__ = "submission_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    actor: Mapped[str] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)


class ObjectionAnswer(Base):
    """The agency's answer to an objection: what it did (``outcome``) and why, once."""

    __tablename__ = "objection_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    corrected_version: Mapped[int | None] = mapped_column(Integer)
    """For a published item: the version that carries the correction."""
    actor: Mapped[str] = mapped_column(String(120))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AgencyWebhook(Base):
    __tablename__ = "agency_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
