"""Fines and their payment: the fine, the payment orders sent to the platform, what the
platform told us, the money it confirmed, refunds, refused callbacks and reconciliations.

The portal never holds the money (LAW.md; APL art. 67, 78): these rows record what the agency
asked for and what the payment platform confirmed with its signature.

- Insert-only records of legal significance: ``Fine``, ``OrderTransition`` (every state change
  of an order), ``PaymentRecord`` (money the platform confirmed, applied to the fine or kept
  aside for a refund), ``Refund``. Each also has its event in the fine's evidence chain
  (``fine:<id>``), whose hash it keeps.
- ``PaymentOrder.state`` is the one mutable column: a derived index of the order's last
  transition (like ``ChainHead``), so "one open order per fine" can be a partial unique index
  the database enforces (SECURITY.md 2.3.4). The transitions are the record.
- Incoming callbacks are stored first under a unique ``(platform, notification_id)`` and their
  nonces under a unique ``(platform, nonce)`` (STYLE.md convention 8), so a replay is a no-op.
- ``PaymentSecurityEvent``: every refused callback, for the operator (no payer data, no body;
  the body's SHA-256 only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime
from portal.models.evidence import BigId

OPEN_STATES = ("created", "pending", "failed")
"""Order states in which the party may still pay the order: at most one per fine."""
_OPEN_SQL = text("state IN ('created', 'pending', 'failed')")


class Fine(Base):
    """A payable fine of a served decision (APL art. 67): due 15 days after service."""

    __tablename__ = "fines"
    __table_args__ = (UniqueConstraint("agency_id", "decision_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    served_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The service time of a decision served through the portal (its arrival)."""
    served_on: Mapped[date] = mapped_column(Date)
    """The China date of service: of ``served_at``, or as the agency stated it."""
    decision_number: Mapped[str] = mapped_column(String(100))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    collecting_account: Mapped[str] = mapped_column(String(200))
    surcharge_applies: Mapped[bool] = mapped_column(Boolean)
    payment_code: Mapped[str] = mapped_column(String(20), unique=True)
    due_date: Mapped[date] = mapped_column(Date)
    due_explanation: Mapped[str] = mapped_column(String(500))
    request_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class PaymentOrder(Base):
    """The portal's request to a platform to collect one amount for the fine's payment code."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        UniqueConstraint("platform", "platform_order_id"),
        Index("uq_payment_orders_open_fine", "fine_id", unique=True,
              postgresql_where=_OPEN_SQL, sqlite_where=_OPEN_SQL),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    fine_id: Mapped[int] = mapped_column(ForeignKey("fines.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    quote_date: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform_order_id: Mapped[str | None] = mapped_column(String(64))
    pay_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderTransition(Base):
    """One state change of an order, as `payments.states.transition` allowed it."""

    __tablename__ = "payment_order_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class PaymentNotification(Base):
    """A verified callback, stored before it is applied; the unique key makes replays no-ops."""

    __tablename__ = "payment_notifications"
    __table_args__ = (UniqueConstraint("platform", "notification_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    notification_id: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    platform_serial: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    body_sha256: Mapped[str] = mapped_column(String(64))


class PaymentNonce(Base):
    """A delivery's nonce, kept so that the very same signed request is never applied twice."""

    __tablename__ = "payment_nonces"
    __table_args__ = (UniqueConstraint("platform", "nonce"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PaymentRecord(Base):
    """Money the platform confirmed. ``applied``: it paid the fine; otherwise, or when
    ``refund_required`` (a second payment of a settled fine), it waits for a refund."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("platform", "platform_serial"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fine_id: Mapped[int] = mapped_column(ForeignKey("fines.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_serial: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    surcharge_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_on: Mapped[date] = mapped_column(Date)
    applied: Mapped[bool] = mapped_column(Boolean)
    refund_required: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("payment_notifications.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class Refund(Base):
    """The agency reports that a payment was refunded through the platform."""

    __tablename__ = "payment_refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    refund_serial: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_hash: Mapped[str] = mapped_column(String(64))


class PaymentSecurityEvent(Base):
    """A callback the portal refused, with the stable reason code."""

    __tablename__ = "payment_security_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    platform: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(200))
    notification_id: Mapped[str | None] = mapped_column(String(80))
    order_ref: Mapped[str | None] = mapped_column(String(64))
    client_key: Mapped[str | None] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))


class Reconciliation(Base):
    """One comparison of a platform's daily statement with the portal's payment records."""

    __tablename__ = "reconciliations"
    __table_args__ = (Index("ix_reconciliations_platform_day", "platform", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clean: Mapped[bool] = mapped_column(Boolean)
    matched: Mapped[int] = mapped_column(Integer)
    statement_total_fen: Mapped[int] = mapped_column(BigInteger)
    portal_total_fen: Mapped[int] = mapped_column(BigInteger)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
