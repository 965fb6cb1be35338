"""Fines, payment orders and their transitions, platform notifications and nonces, payments,
refunds, refused callbacks, reconciliations, and fiscal e-receipts with their gap-free counters.

One open order per fine is a partial unique index (both databases support ``WHERE`` on an
index). On PostgreSQL, as for the evidence log, triggers refuse UPDATE and DELETE on the
tables that record legal acts (GD art. 62(3)); ``payment_orders.state`` and the counters are
indexes over those records and stay writable.

Revision ID: 0040
Revises: 0030
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0040"
down_revision = "0030"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = sa.text("state IN ('created', 'pending', 'failed')")
_RECORD_TABLES = ("fines", "payment_order_transitions", "payment_notifications", "payments",
                  "payment_refunds", "fiscal_receipts", "receipt_documents")


def _id() -> sa.Column:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, nullable: bool = False, **kwargs: bool) -> sa.Column:
    column_type = sa.Integer if target in ("agencies.id", "cases.id", "parties.id") else BigId
    return sa.Column(name, column_type, sa.ForeignKey(target), nullable=nullable, **kwargs)


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=False)


def upgrade() -> None:
    op.create_table(
        "fines",
        _id(),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        _fk("agency_id", "agencies.id", index=True),
        _fk("case_id", "cases.id", index=True),
        _fk("party_id", "parties.id", index=True),
        _fk("delivery_id", "deliveries.id", nullable=True),
        sa.Column("served_at", UTCDateTime()),
        sa.Column("served_on", sa.Date, nullable=False),
        sa.Column("decision_number", sa.String(100), nullable=False),
        _money("amount_fen"),
        sa.Column("collecting_account", sa.String(200), nullable=False),
        sa.Column("surcharge_applies", sa.Boolean, nullable=False),
        sa.Column("payment_code", sa.String(20), nullable=False, unique=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("due_explanation", sa.String(500), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("agency_id", "decision_number"),
    )
    op.create_table(
        "payment_orders",
        _id(),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        _fk("fine_id", "fines.id", index=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        _money("amount_fen"),
        sa.Column("quote_date", sa.Date, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("platform_order_id", sa.String(64)),
        sa.Column("pay_url", sa.String(500)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("platform", "platform_order_id"),
    )
    op.create_index("uq_payment_orders_open_fine", "payment_orders", ["fine_id"], unique=True,
                    postgresql_where=_OPEN, sqlite_where=_OPEN)
    op.create_table(
        "payment_order_transitions",
        _id(),
        _fk("order_id", "payment_orders.id", index=True),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "payment_notifications",
        _id(),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("notification_id", sa.String(80), nullable=False),
        _fk("order_id", "payment_orders.id", nullable=True, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        _money("amount_fen"),
        sa.Column("paid_at", UTCDateTime()),
        sa.Column("platform_serial", sa.String(64)),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("platform", "notification_id"),
    )
    op.create_table(
        "payment_nonces",
        _id(),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False, index=True),
        sa.UniqueConstraint("platform", "nonce"),
    )
    op.create_table(
        "payments",
        _id(),
        _fk("fine_id", "fines.id", index=True),
        _fk("order_id", "payment_orders.id", index=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("platform_serial", sa.String(64), nullable=False),
        _money("amount_fen"),
        _money("principal_fen"),
        _money("surcharge_fen"),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False),
        sa.Column("refund_required", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(40)),
        _fk("notification_id", "payment_notifications.id", nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("platform", "platform_serial"),
    )
    op.create_table(
        "payment_refunds",
        _id(),
        _fk("payment_id", "payments.id", unique=True),
        sa.Column("refund_serial", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "payment_security_events",
        _id(),
        sa.Column("occurred_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("notification_id", sa.String(80)),
        sa.Column("order_ref", sa.String(64)),
        sa.Column("client_key", sa.String(64)),
        sa.Column("body_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "reconciliations",
        _id(),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False),
        sa.Column("clean", sa.Boolean, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        _money("statement_total_fen"),
        _money("portal_total_fen"),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_index("ix_reconciliations_platform_day", "reconciliations", ["platform", "day"])
    op.create_table(
        "receipt_counters",
        sa.Column("code", sa.String(8), primary_key=True),
        _fk("agency_id", "agencies.id", unique=True),
        sa.Column("last_number", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "fiscal_receipts",
        _id(),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("check_code", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        _fk("fine_id", "fines.id", index=True),
        _fk("payment_id", "payments.id", nullable=True, unique=True),
        _fk("original_id", "fiscal_receipts.id", nullable=True, unique=True),
        _money("total_fen"),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("code", "number"),
    )
    op.create_table(
        "receipt_documents",
        _id(),
        _fk("receipt_id", "fiscal_receipts.id", unique=True),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("sealed_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "receipt_verification_counts",
        _fk("receipt_id", "fiscal_receipts.id", primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION payment_record_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$ "
            "LANGUAGE plpgsql"
        )
        for table in _RECORD_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION payment_record_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _RECORD_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION payment_record_append_only()")
    for table in ("receipt_verification_counts", "receipt_documents", "fiscal_receipts",
                  "receipt_counters"):
        op.drop_table(table)
    op.drop_index("ix_reconciliations_platform_day", "reconciliations")
    for table in ("reconciliations", "payment_security_events", "payment_refunds", "payments",
                  "payment_nonces", "payment_notifications", "payment_order_transitions"):
        op.drop_table(table)
    op.drop_index("uq_payment_orders_open_fine", "payment_orders")
    op.drop_table("payment_orders")
    op.drop_table("fines")
