"""What the case's history does to the amount due (no database: plain values).

APL art. 73 para. 3: days while a reconsideration or lawsuit is pending are not counted;
APL art. 66: an approved deferral (the agency's extension of the payment window) moves the
due date, and the surcharge counts from the new one; an approved instalment plan gives each
instalment its own due date and surcharge, and the latest of a deferral and a plan applies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.cases.events import StageEvent
from portal.legal_calendar import HolidayCalendar
from portal.models.payments import Fine, PaymentRecord
from portal.services.fine_views import allocation, quote_for, terms_from_events

CHINA = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 3, 2)
CALENDAR = HolidayCalendar.standard()


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
    terms = terms_from_events(_fine(), events, CALENDAR)
    quote = quote_for(terms, date(2026, 3, 20), [])
    # days after 2 March up to 20 March: 18, of which 5–14 March (10 days) are suspended
    assert quote.surcharge_days == 8
    assert quote.surcharge_fen == 100_000 * 3 * 8 // 100
    assert "复议期间（2026年3月5日至2026年3月14日）不计" in quote.explanation


def test_a_pending_lawsuit_stops_the_surcharge_until_it_ends() -> None:
    events = [_event(1, "lawsuit_started", date(2026, 3, 10))]
    quote = quote_for(terms_from_events(_fine(), events, CALENDAR), date(2026, 4, 30), [])
    assert quote.surcharge_days == 7  # 3–9 March only


def test_an_extension_of_the_payment_window_is_a_deferral() -> None:
    # APL art. 66: deferral approved; the surcharge counts from the day after the new due date
    events = [_event(1, "window_extended", date(2026, 3, 1), deadline="payment",
                     new_last_day="2026-04-01", reason="经济困难")]
    terms = terms_from_events(_fine(), events, CALENDAR)
    assert terms.deferral is not None and terms.deferral.due_date == date(2026, 4, 1)
    assert quote_for(terms, date(2026, 4, 1), []).surcharge_fen == 0
    assert quote_for(terms, date(2026, 4, 3), []).surcharge_days == 2
    other = [_event(1, "window_extended", date(2026, 3, 1), deadline="statement",
                    new_last_day="2026-04-01", reason="x")]
    assert terms_from_events(_fine(), other, CALENDAR).deferral is None


_PLAN = [{"due_date": "2026-03-02", "amount_fen": 40_000}, {"due_date": "2026-04-02", "amount_fen": 60_000}]


def _approved(seq: int, day: date, plan: list[dict[str, object]] = _PLAN) -> StageEvent:
    return _event(seq, "instalments_approved", day, instalments=plan, reason="经济困难")


def test_an_approved_plan_gives_each_instalment_its_due_date_and_surcharge() -> None:  # APL art. 66
    terms = terms_from_events(_fine(), [_approved(1, date(2026, 2, 20))], CALENDAR)
    assert terms.plan is not None and terms.deferral is None
    assert [(i.due_date, i.amount_fen) for i in terms.plan.instalments] == [
        (date(2026, 3, 2), 40_000), (date(2026, 4, 2), 60_000)]
    ahead = quote_for(terms, date(2026, 2, 25), [])
    assert ahead.pay_now_fen == 40_000 and ahead.surcharge_fen == 0  # the first instalment
    late = quote_for(terms, date(2026, 3, 12), [])
    # APL art. 72(1) per instalment: 10 days on the first one only; the second is not due
    assert [line.surcharge_fen for line in late.lines] == [40_000 * 3 * 10 // 100, 0]
    assert late.pay_now_fen == 40_000 + 12_000 and late.total_fen == 100_000 + 12_000
    paid = [PaymentRecord(paid_on=date(2026, 3, 12), amount_fen=52_000, applied=True, platform_serial="S1")]
    assert allocation(terms, date(2026, 3, 12), [], 52_000) == (40_000, 12_000)
    after = quote_for(terms, date(2026, 3, 12), paid)
    assert after.pay_now_fen == 60_000 and [line.due_fen for line in after.lines] == [0, 60_000]


def test_the_latest_of_a_deferral_and_a_plan_applies() -> None:  # APL art. 66
    deferral = _event(2, "window_extended", date(2026, 2, 21), deadline="payment",
                      new_last_day="2026-05-01", reason="暂缓")
    later_deferral = terms_from_events(_fine(), [_approved(1, date(2026, 2, 20)), deferral], CALENDAR)
    assert later_deferral.plan is None and later_deferral.deferral is not None
    later_plan = terms_from_events(_fine(), [deferral, _approved(3, date(2026, 2, 22))], CALENDAR)
    assert later_plan.deferral is None and later_plan.plan is not None
    changed = [{"due_date": "2026-03-10", "amount_fen": 100_000 - 1},
               {"due_date": "2026-05-10", "amount_fen": 1}]
    replaced = terms_from_events(_fine(), [_approved(1, date(2026, 2, 20)),
                                           _approved(2, date(2026, 2, 21), changed)], CALENDAR)
    assert replaced.plan is not None and replaced.plan.instalments[0].due_date == date(2026, 3, 10)


def test_a_plan_for_another_amount_than_the_fine_is_left_out() -> None:
    # the rule checks the plan against the decision's fine; a fine row of another amount keeps
    # its own due date rather than failing every page that quotes it
    other = [{"due_date": "2026-03-02", "amount_fen": 1}, {"due_date": "2026-04-02", "amount_fen": 1}]
    terms = terms_from_events(_fine(), [_approved(1, date(2026, 2, 20), other)], CALENDAR)
    assert terms.plan is None and quote_for(terms, date(2026, 3, 3), []).surcharge_days == 1
