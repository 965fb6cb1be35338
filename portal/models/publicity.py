"""Published enforcement information (公示): items, their versions and their withdrawals.

The record is ``PublicationVersion`` and ``PublicationWithdrawal``: rows that are only ever
added, never updated or deleted (on PostgreSQL a trigger refuses it, as for the evidence
log), so every version the public was ever shown, and when, stays provable (FJ art. 21: "the
history is kept"; GD art. 62(3)). Each is also an event in the item's evidence chain
(``publication:<id>``).

``Publication`` is the item's current projection, derived from those rows like
``ChainHead``: which version is current, the window it is public in, whether it was
withdrawn, and the columns public search filters, orders and matches on (``search_text`` is
built from masked content only). It is rewritten when a version or a withdrawal is added; it
holds nothing that is not also in the record.

``PublicationSubject`` lets a person the item concerns be recognised at login, to object to it,
without keeping who they are: a keyed digest of an identifier per version.

Everything stored here is the masked content (``portal.publicity.ingest``): the raw text an
agency sent never reaches these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "agency_case_number"),
        # newest first (decision date, then id) overall, per agency, region and kind; each also
        # narrows a keyword's trigram matches (a bitmap AND on PostgreSQL)
        Index("ix_publications_order", "decision_date", "id"),
        Index("ix_publications_agency_order", "agency_id", "decision_date", "id"),
        Index("ix_publications_region_order", "region_code", "decision_date", "id"),
        Index("ix_publications_kind_order", "kind", "decision_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(32))
    agency_case_number: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6))
    decision_date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    first_published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    public_until: Mapped[datetime] = mapped_column(UTCDateTime())
    publicity_days: Mapped[int | None] = mapped_column(Integer)
    publicity_basis: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_text: Mapped[str] = mapped_column(Text)


class PublicationVersion(Base):
    __tablename__ = "publication_versions"
    __table_args__ = (UniqueConstraint("publication_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    public_until: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    party_kind: Mapped[str] = mapped_column(String(16))
    party_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    violation: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    decision_date: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6))
    masked: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))


class PublicationWithdrawal(Base):
    __tablename__ = "publication_withdrawals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), unique=True)
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    ground: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    warnings: Mapped[list[dict[str, object]]] = mapped_column(JSON)


class PublicationSubject(Base):
    """Who a version concerns, so that they can object to it (数据异议, GD art. 49; FJ art. 15):
    a keyed digest of the party's identifier or of a named person's ID number, never the
    identifier itself (``services.publication_subjects``). Not public, not searchable; added
    with its version, deleted once the item is no longer public (``services.housekeeping``)."""

    __tablename__ = "publication_subjects"
    __table_args__ = (UniqueConstraint("publication_id", "version", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))
    digest: Mapped[str] = mapped_column(String(64), index=True)
