"""Parties (natural persons and organisations), login accounts, and who may act for whom.

A natural person is keyed by the resident ID number, an organisation by its unified social
credit code: those are what agencies name in cases. A login account is keyed by the identity
provider's (issuer, subject) and belongs to one natural person. ``Representation`` records
that a person may act for another party (an organisation's agent, or a delegate), from which
source, with which scope (``mailbox``: read only; ``full``: also act), and until when;
revocation is a new timestamp, never a deletion. For delegations the party's evidence chain
is the record of the grant and the revocation; these columns are the index queries use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.vocabulary import SCOPE_FULL


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'person' AND id_number IS NOT NULL AND credit_code IS NULL) OR "
            "(kind = 'organisation' AND credit_code IS NOT NULL AND id_number IS NULL)",
            name="identifier_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Representation(Base):
    __tablename__ = "representations"
    __table_args__ = (CheckConstraint("scope IN ('mailbox', 'full')", name="scope_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16), default=SCOPE_FULL, server_default=text("'full'"))
    granted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RepresentationAuthorisation(Base):
    """The signed power of attorney (授权委托书) of a delegation: the PDF the principal (or an
    organisation's agent for it) signed with their remote-signing key, once per delegation, so
    the agency can see who acts for the party and on what authority (APL art. 64(3)). Only ever
    added; its event is in the principal's chain (``party:<id>``)."""

    __tablename__ = "representation_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    representation_id: Mapped[int] = mapped_column(ForeignKey("representations.id"), unique=True)
    signed_by_person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    document_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)
