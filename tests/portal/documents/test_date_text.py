"""One way of writing a date for citizens (plain language: "one date format"), on pages and in
the documents the portal seals: 2026年3月5日, China time, no zero padding, the clock as 14:05;
the service receipt keeps the recorded microseconds, since a court may ask for them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.documents import service_receipt, verification
from portal.web.rendering import environment

INSTANT = datetime(2026, 3, 5, 6, 5, 9, 123456, tzinfo=UTC)  # 14:05:09.123456 in China


def test_pages_and_documents_write_a_date_and_an_instant_the_same_way() -> None:
    page_day, page_time = environment.filters["china_day"], environment.filters["china_time"]
    assert page_day(date(2026, 3, 5)) == "2026年3月5日"
    assert page_time(INSTANT) == "2026年3月5日 14:05"
    assert page_time(INSTANT, "second") == "2026年3月5日 14:05:09"
    assert service_receipt.china_time(INSTANT) == "2026年3月5日 14:05:09.123456"
    assert verification.china_time(INSTANT) == "2026年3月5日 14:05:09（北京时间）"
    assert verification.china_time(INSTANT.isoformat()) == "2026年3月5日 14:05:09（北京时间）"
    # the China date, not the UTC one: 23:30 UTC on 4 March is already 5 March in China
    assert page_time(datetime(2026, 3, 4, 23, 30, tzinfo=UTC), "date") == "2026年3月5日"
