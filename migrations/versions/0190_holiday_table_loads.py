"""Each load of the holiday table is recorded with the digest of the table it left, so a
process reuses the calendar it built until the next load (``portal.services.calendar``); a
table loaded before this revision is recorded here as one load.

Revision ID: 0190
Revises: 0180
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime
from portal.holiday_table import CalendarDay, DayKind, table_digest

revision = "0190"
down_revision = "0180"
branch_labels = None
depends_on = None


def upgrade() -> None:
    loads = op.create_table(
        "holiday_table_loads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.Column("years", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
    )
    stored = sa.text("SELECT year, day, kind, name FROM holiday_days").columns(
        year=sa.Integer, day=sa.Date, kind=sa.String, name=sa.String)  # dates as dates on SQLite too
    rows = op.get_bind().execute(stored).all()
    if rows:
        days = [CalendarDay(year, day, DayKind(kind), name) for year, day, kind, name in rows]
        op.bulk_insert(loads, [{"loaded_at": datetime.now(UTC),
                                "years": ",".join(str(year) for year in sorted({row[0] for row in rows})),
                                "digest": table_digest(days)}])


def downgrade() -> None:
    op.drop_table("holiday_table_loads")
