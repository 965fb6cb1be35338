"""What the case's history does to the amount due (no database: plain values).

APL art. 73 para. 3: days while a reconsideration or lawsuit is pending are not counted;
APL art. 66: an approved deferral (the agency's extension of the payment window) moves the
due date, and the surcharge counts from the new one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.case_events import StageEvent
from portal.models.payments import Fine
from portal.services.fine_views import quote_for, terms_from_events

CHINA = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 3, 2)


def _fine() -> Fine:
    return Fine(amount_fen=100_000, due_date=DUE, surcharge_applies=True, served_on=date(2026, 2, 15))


def _event(seq: int, kind: str, day: date, **data: object) -> StageEvent:
    at = datetime.combine(day, time(10), CHINA).astimezone(UTC)
    return StageEvent.from_payload(seq, kind, at, {"occurred_at": at.isoformat(), **data})


def test_reconsideration_days_are_not_counted_for_the_surcharge() -> None:
    # APL art. 73 para. 3; the suspension covers its first and last day (the party's favour)
    events = [_event(1, "decided", date(2026, 2, 14), decision_number="x", penalty="y", fine_fen=100_000),
              _event(2, "reconsideration_started", date(2026, 3, 5)),
              _event(3, "reconsideration_ended", date(2026, 3, 14))]
    terms = terms_from_events(_fine(), events)
    quote = quote_for(terms, date(2026, 3, 20), [])
    # days after 2 March up to 20 March: 18, of which 5–14 March (10 days) are suspended
    assert quote.surcharge_days == 8
    assert quote.surcharge_fen == 100_000 * 3 * 8 // 100
    assert "复议期间（2026年3月5日至2026年3月14日）不计" in quote.explanation


def test_a_pending_lawsuit_stops_the_surcharge_until_it_ends() -> None:
    events = [_event(1, "lawsuit_started", date(2026, 3, 10))]
    quote = quote_for(terms_from_events(_fine(), events), date(2026, 4, 30), [])
    assert quote.surcharge_days == 7  # 3–9 March only


def test_an_extension_of_the_payment_window_is_a_deferral() -> None:
    # APL art. 66: deferral approved; the surcharge counts from the day after the new due date
    events = [_event(1, "window_extended", date(2026, 3, 1), deadline="payment",
                     new_last_day="2026-04-01", reason="经济困难")]
    terms = terms_from_events(_fine(), events)
    assert terms.deferral is not None and terms.deferral.due_date == date(2026, 4, 1)
    assert quote_for(terms, date(2026, 4, 1), []).surcharge_fen == 0
    assert quote_for(terms, date(2026, 4, 3), []).surcharge_days == 2
    other = [_event(1, "window_extended", date(2026, 3, 1), deadline="statement",
                    new_last_day="2026-04-01", reason="x")]
    assert terms_from_events(_fine(), other).deferral is None
