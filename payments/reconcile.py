"""Reconciliation: the platform's daily statement against the portal's payment records.

The platform holds the money and its statement is the record of what it collected; the
portal's records are what it learned from signed callbacks and queries. Every day a worker
fetches the statement of the previous China date and calls `reconcile`. The report lists:

- **missing in portal**: the platform collected money the portal never recorded (a callback
  lost or refused, e.g. an unknown payment code): someone must find the fine or refund it;
- **missing on platform**: the portal recorded a payment of that day the statement lacks
  (a forged or mistaken record, or the platform's fault): the fine must not stay "paid"
  unchecked;
- **amount mismatches**: both sides know the payment, with different amounts;
- **duplicate serials**: the statement lists one payment serial twice.

Matching is by the platform's payment serial (流水号); a portal record without a serial is
matched by the platform's order id. Payments made just before midnight may be dated on
either side of it, so the caller may pass records of the neighbouring days too: they match
statement lines as usual, but only records whose China date is the statement's day can be
reported missing on the platform.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from payments.errors import InvalidRecord
from payments.money import check_fen
from payments.platforms.base import Statement, StatementLine

__all__ = ["AmountMismatch", "PortalRecord", "ReconciliationReport", "reconcile"]

_CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class PortalRecord:
    """A successful payment as the portal recorded it."""

    order_id: str
    platform_order_id: str
    platform_serial: str | None
    payment_code: str
    amount_fen: int
    paid_at: datetime

    def __post_init__(self) -> None:
        check_fen(self.amount_fen)
        if self.paid_at.utcoffset() is None:
            raise InvalidRecord("paid_at must be an aware instant")


@dataclass(frozen=True)
class AmountMismatch:
    """One payment both sides know, with different amounts."""

    line: StatementLine
    record: PortalRecord

    @property
    def difference_fen(self) -> int:
        """Statement minus portal."""
        return self.line.amount_fen - self.record.amount_fen


@dataclass(frozen=True)
class ReconciliationReport:
    """The outcome of comparing one statement with the portal's records."""

    platform: str
    day: date
    matched: int
    missing_in_portal: tuple[StatementLine, ...]
    missing_on_platform: tuple[PortalRecord, ...]
    amount_mismatches: tuple[AmountMismatch, ...]
    duplicate_serials: tuple[str, ...]
    statement_total_fen: int
    portal_total_fen: int
    """Total of the portal's records dated on ``day`` (China time)."""

    @property
    def clean(self) -> bool:
        """Nothing for a person to look at."""
        return not (
            self.missing_in_portal
            or self.missing_on_platform
            or self.amount_mismatches
            or self.duplicate_serials
        )


def reconcile(statement: Statement, portal_records: Iterable[PortalRecord]) -> ReconciliationReport:
    """Compare ``statement`` with ``portal_records``; see the module docstring."""
    records = list(portal_records)
    by_serial = {r.platform_serial: r for r in records if r.platform_serial}
    by_order = {r.platform_order_id: r for r in records if not r.platform_serial}
    counts = Counter(line.platform_serial for line in statement.lines)

    matched_ids: set[int] = set()
    missing_in_portal: list[StatementLine] = []
    mismatches: list[AmountMismatch] = []
    seen_serials: set[str] = set()
    for line in statement.lines:
        if line.platform_serial in seen_serials:
            continue
        seen_serials.add(line.platform_serial)
        record = by_serial.get(line.platform_serial) or by_order.get(line.platform_order_id)
        if record is None or id(record) in matched_ids:
            missing_in_portal.append(line)
            continue
        matched_ids.add(id(record))
        if record.amount_fen != line.amount_fen:
            mismatches.append(AmountMismatch(line, record))

    of_the_day = [r for r in records if r.paid_at.astimezone(_CHINA).date() == statement.day]
    return ReconciliationReport(
        platform=statement.platform,
        day=statement.day,
        matched=len(matched_ids),
        missing_in_portal=tuple(missing_in_portal),
        missing_on_platform=tuple(r for r in of_the_day if id(r) not in matched_ids),
        amount_mismatches=tuple(mismatches),
        duplicate_serials=tuple(sorted(s for s, n in counts.items() if n > 1)),
        statement_total_fen=statement.total_fen,
        portal_total_fen=sum(r.amount_fen for r in of_the_day),
    )
