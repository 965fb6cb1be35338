"""Electronic service: party keys, consents and revocations, deliveries and what follows them,
and the jobs table for follow-up work.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _parties(name: str, **kwargs: bool) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("parties.id"), nullable=False, **kwargs)


def _delivery() -> sa.Column:
    return sa.Column("delivery_id", BigId, sa.ForeignKey("deliveries.id"), nullable=False, unique=True)


def upgrade() -> None:
    op.create_table(
        "party_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        _parties("person_id", unique=True),
        sa.Column("certificate_der", sa.LargeBinary, nullable=False),
        sa.Column("chain_der", sa.JSON, nullable=False),
        sa.Column("encrypted_key_pem", sa.LargeBinary, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("pseudonym", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True),
        _parties("party_id", index=True),
        _parties("signer_person_id"),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("agency_ids", sa.JSON, nullable=False),
        sa.Column("email_copy", sa.String(254), nullable=True),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "consent_revocations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("consent_id", sa.Integer, sa.ForeignKey("consents.id"), nullable=False, unique=True),
        _parties("signer_person_id"),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        _parties("party_id", index=True),
        sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=False, index=True),
        sa.Column("document_type", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("document_size", sa.Integer, nullable=False),
        sa.Column("consent_id", sa.Integer, sa.ForeignKey("consents.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("arrived_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("arrival_event_hash", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("agency_id", "idempotency_key"),
    )
    op.create_table(
        "delivery_reads",
        sa.Column("id", sa.Integer, primary_key=True),
        _delivery(),
        _parties("reader_person_id"),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "arrival_timestamps",
        sa.Column("id", sa.Integer, primary_key=True),
        _delivery(),
        sa.Column("token_der", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", UTCDateTime(), nullable=False),
        sa.Column("tsa_name", sa.String(300), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "service_receipts",
        sa.Column("id", sa.Integer, primary_key=True),
        _delivery(),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "paper_copy_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        _delivery(),
        _parties("requester_person_id"),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=False, unique=True),
        sa.Column("done", sa.Boolean, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("jobs", "paper_copy_requests", "service_receipts", "arrival_timestamps",
                  "delivery_reads", "deliveries", "consent_revocations", "consents", "party_keys"):
        op.drop_table(table)
