"""Reconciliation: the platform's daily statement against the payments the portal recorded.

``reconcile_day`` fetches the statement of a China date from the platform (outside any
transaction: it is a network call), then in one transaction reads the portal's records of
that day and its neighbours (payments just before midnight may be dated on either side),
compares them with `payments.reconcile` and appends the result. Every run is kept; readers
take the latest of a day (``latest``).

An agency reads only the lines about its own fines (``agency_view``): matched by payment
code, so money the platform collected for an unknown code is for the operator
(``portal payments reconcile``), not for any agency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import payments
from portal.database import database_now, transaction
from portal.models.payments import Fine, PaymentOrder, PaymentRecord, Reconciliation

__all__ = ["AgencyReconciliation", "agency_view", "differences", "latest", "portal_records",
           "reconcile_day", "reconciled_since", "report_json"]


async def portal_records(db: AsyncSession, platform: str, day: date) -> list[payments.PortalRecord]:
    """The platform's payments the portal recorded on ``day`` and the days either side."""
    rows = (await db.execute(
        select(PaymentRecord, PaymentOrder, Fine)
        .join(PaymentOrder, PaymentOrder.id == PaymentRecord.order_id)
        .join(Fine, Fine.id == PaymentRecord.fine_id)
        .where(PaymentRecord.platform == platform,
               PaymentRecord.paid_on.between(day - timedelta(days=1), day + timedelta(days=1)))
        .order_by(PaymentRecord.paid_at, PaymentRecord.id))).all()
    return [payments.PortalRecord(order.public_id, order.platform_order_id or "", record.platform_serial,
                                  fine.payment_code, record.amount_fen, record.paid_at)
            for record, order, fine in rows]


def _line(line: payments.StatementLine) -> dict[str, Any]:
    return {"platform_serial": line.platform_serial, "order_id": line.order_id,
            "payment_code": line.payment_code, "amount_fen": line.amount_fen,
            "paid_at": line.paid_at.isoformat()}


def _record(record: payments.PortalRecord) -> dict[str, Any]:
    return {"platform_serial": record.platform_serial, "order_id": record.order_id,
            "payment_code": record.payment_code, "amount_fen": record.amount_fen,
            "paid_at": record.paid_at.isoformat()}


def report_json(report: payments.ReconciliationReport) -> dict[str, Any]:
    """The report as stored and served: amounts in fen, instants ISO 8601."""
    return {
        "missing_in_portal": [_line(line) for line in report.missing_in_portal],
        "missing_on_platform": [_record(record) for record in report.missing_on_platform],
        "amount_mismatches": [{"statement": _line(m.line), "portal": _record(m.record),
                               "difference_fen": m.difference_fen} for m in report.amount_mismatches],
        "duplicate_serials": list(report.duplicate_serials),
    }


async def reconcile_day(sessions: async_sessionmaker[AsyncSession], platform: payments.PaymentPlatform,
                        day: date, *, now: datetime | None = None) -> Reconciliation:
    """Fetch, compare and store one day's reconciliation; raises `payments.PlatformError`
    when the statement cannot be had or trusted."""
    statement = await platform.fetch_statement(day)
    async with transaction(sessions) as db:
        report = payments.reconcile(statement, await portal_records(db, platform.name, day))
        row = Reconciliation(platform=platform.name, day=day, ran_at=now or await database_now(db),
                             clean=report.clean, matched=report.matched,
                             statement_total_fen=report.statement_total_fen,
                             portal_total_fen=report.portal_total_fen, report=report_json(report))
        db.add(row)
        await db.flush()
        return row


async def reconciled_since(db: AsyncSession, platform: str, day: date, since: datetime) -> bool:
    """Whether ``platform``'s ``day`` has a run recorded at or after ``since`` (the daily job
    skips a platform it, or an operator, has already done)."""
    found = await db.execute(select(Reconciliation.id).where(
        Reconciliation.platform == platform, Reconciliation.day == day, Reconciliation.ran_at >= since))
    return found.first() is not None


def differences(row: Reconciliation) -> int:
    """How many lines of the stored report need someone's attention."""
    return sum(len(row.report[key]) for key in
               ("missing_in_portal", "missing_on_platform", "amount_mismatches", "duplicate_serials"))


async def latest(db: AsyncSession, day: date) -> list[Reconciliation]:
    """The latest run of ``day`` for each platform."""
    rows = (await db.execute(select(Reconciliation).where(Reconciliation.day == day)
                             .order_by(Reconciliation.ran_at.desc(), Reconciliation.id.desc()))).scalars()
    seen: dict[str, Reconciliation] = {}
    for row in rows:
        seen.setdefault(row.platform, row)
    return list(seen.values())


@dataclass(frozen=True)
class AgencyReconciliation:
    """One platform's day, reduced to the agency's own payment codes."""

    platform: str
    day: date
    ran_at: datetime
    missing_in_portal: tuple[dict[str, Any], ...]
    missing_on_platform: tuple[dict[str, Any], ...]
    amount_mismatches: tuple[dict[str, Any], ...]
    matched: int

    @property
    def clean(self) -> bool:
        return not (self.missing_in_portal or self.missing_on_platform or self.amount_mismatches)


async def agency_view(db: AsyncSession, agency_id: int,
                      rows: Iterable[Reconciliation]) -> list[AgencyReconciliation]:
    codes = set((await db.execute(select(Fine.payment_code).where(Fine.agency_id == agency_id))).scalars())
    views = []
    for row in rows:
        report = row.report
        matched = await _matched_for(db, agency_id, row)
        views.append(AgencyReconciliation(
            platform=row.platform, day=row.day, ran_at=row.ran_at,
            missing_in_portal=tuple(x for x in report["missing_in_portal"] if x["payment_code"] in codes),
            missing_on_platform=tuple(x for x in report["missing_on_platform"] if x["payment_code"] in codes),
            amount_mismatches=tuple(x for x in report["amount_mismatches"]
                                    if x["portal"]["payment_code"] in codes),
            matched=matched))
    return views


async def _matched_for(db: AsyncSession, agency_id: int, row: Reconciliation) -> int:
    """The agency's payments of the day that the statement confirmed."""
    unmatched = {x["platform_serial"] for x in row.report["missing_on_platform"]}
    serials = (await db.execute(
        select(PaymentRecord.platform_serial).join(Fine, Fine.id == PaymentRecord.fine_id)
        .where(Fine.agency_id == agency_id, PaymentRecord.platform == row.platform,
               PaymentRecord.paid_on == row.day))).scalars()
    return sum(serial not in unmatched for serial in serials)
