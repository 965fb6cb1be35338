"""Reconciliation of a platform's daily statement with the portal's payment records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from payments import InvalidRecord, PortalRecord, Statement, StatementLine, reconcile

DAY = date(2026, 12, 9)
NOON = datetime(2026, 12, 9, 4, 0, tzinfo=UTC)  # 12:00 China time


def line(n: int, amount: int = 100_00, at: datetime = NOON) -> StatementLine:
    return StatementLine(f"S{n}", f"P{n}", f"ord-{n}", f"code-{n}", amount, at)


def record(n: int, amount: int = 100_00, at: datetime = NOON, serial: bool = True) -> PortalRecord:
    return PortalRecord(f"ord-{n}", f"P{n}", f"S{n}" if serial else None, f"code-{n}", amount, at)


def statement(*lines: StatementLine) -> Statement:
    return Statement("sandbox", DAY, tuple(lines))


def test_matching_books_are_clean() -> None:
    report = reconcile(statement(line(1), line(2, 250_00)), [record(1), record(2, 250_00)])
    assert report.clean and report.matched == 2
    assert (report.statement_total_fen, report.portal_total_fen) == (350_00, 350_00)


def test_money_the_portal_never_recorded_is_missing_in_portal() -> None:
    report = reconcile(statement(line(1), line(2)), [record(1)])
    assert [x.platform_serial for x in report.missing_in_portal] == ["S2"]
    assert not report.clean and report.missing_on_platform == ()


def test_a_payment_the_platform_does_not_list_is_missing_on_platform() -> None:
    report = reconcile(statement(line(1)), [record(1), record(3)])
    assert [x.order_id for x in report.missing_on_platform] == ["ord-3"]
    assert report.portal_total_fen == 200_00 and report.statement_total_fen == 100_00


def test_different_amounts_for_one_payment_are_reported() -> None:
    report = reconcile(statement(line(1, 100_00)), [record(1, 99_99)])
    (mismatch,) = report.amount_mismatches
    assert mismatch.difference_fen == 1 and mismatch.line.platform_serial == "S1"
    assert report.matched == 1 and not report.clean


def test_a_serial_listed_twice_is_reported() -> None:
    report = reconcile(statement(line(1), line(1)), [record(1)])
    assert report.duplicate_serials == ("S1",) and report.missing_in_portal == ()


def test_a_record_without_serial_matches_by_platform_order_id() -> None:
    assert reconcile(statement(line(1)), [record(1, serial=False)]).clean


def test_one_record_cannot_match_two_lines() -> None:
    report = reconcile(
        statement(line(1), StatementLine("S9", "P1", "ord-1", "code-1", 100_00, NOON)),
        [record(1, serial=False)],
    )
    assert [x.platform_serial for x in report.missing_in_portal] == ["S9"]


def test_records_of_neighbouring_days_match_but_are_never_missing() -> None:
    just_before_midnight = datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)  # 23:59:59 China time, 8 Dec
    late = line(1, at=just_before_midnight + timedelta(seconds=2))
    report = reconcile(
        statement(late), [record(1, at=just_before_midnight), record(2, at=just_before_midnight)]
    )
    assert report.matched == 1 and report.clean
    assert report.portal_total_fen == 0


def test_a_naive_record_is_refused() -> None:
    with pytest.raises(InvalidRecord):
        PortalRecord("o", "p", "s", "c", 1, datetime(2026, 12, 9))
