"""The legal event log: append-only, one hash chain per subject (DESIGN.md, "Data and time").

Each row holds the SHA-256 of its own canonical content and the hash of the row before it in
the same chain, so changing, removing or reordering any row breaks the chain at that point
(GD art. 62(3): nobody may tamper with enforcement information). Rows are never updated or
deleted; on PostgreSQL a trigger refuses it even to a careless operator. ``ChainHead`` is a
derived index (the last seq and hash of each chain) kept so that appends can lock the chain
and concurrent appends serialise; it carries no evidence of its own. ``EvidenceCheckpoint``
and ``CheckpointHead`` anchor the heads in time outside these rows (a chain's tail
truncated, a chain deleted or every hash recomputed would otherwise go unnoticed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class EvidenceEvent(Base):
    __tablename__ = "evidence_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainHead(Base):
    __tablename__ = "evidence_chain_heads"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class EvidenceCheckpoint(Base):
    """An RFC 3161 timestamp over the chain heads that changed since the checkpoint before.

    Kept apart from the rows it protects (``portal.services.checkpoints``): ``digest`` is
    SHA-256 over the previous checkpoint's digest and this one's heads, so the checkpoints
    form a chain of their own, each stamped by the TSA and exported to a file. Rows are only
    added (PostgreSQL refuses UPDATE, DELETE and TRUNCATE).
    """

    __tablename__ = "evidence_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    heads: Mapped[int] = mapped_column(Integer)
    token_der: Mapped[bytes] = mapped_column(LargeBinary)
    gen_time: Mapped[datetime] = mapped_column(UTCDateTime())
    tsa_name: Mapped[str] = mapped_column(String(300))


class CheckpointHead(Base):
    """One chain's last event as a checkpoint saw it: ``seq`` and ``hash`` of that event."""

    __tablename__ = "evidence_checkpoint_heads"

    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("evidence_checkpoints.id"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
