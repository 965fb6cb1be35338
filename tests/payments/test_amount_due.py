"""The amount-due engine: worked examples for each legal rule, and properties over random fines.

Rules under test (LAW.md): 3% of the fine per day from the day after the due date (APL art.
72(1)); never more than the fine (Administrative Coercion Law art. 45); no surcharge while a
reconsideration or lawsuit is pending (APL art. 73 para. 3); deferral and instalments (APL
art. 66); a quote is valid until 24:00 China time of its date. The properties also compare
the engine with a day-by-day reference implementation written independently here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments import (
    Deferral,
    Fine,
    InstalmentPlan,
    InvalidAmount,
    InvalidQuoteInput,
    Payment,
    Quote,
    Suspension,
    SuspensionKind,
    amount_due,
)

DUE = date(2026, 12, 8)
R, L = SuspensionKind.RECONSIDERATION, SuspensionKind.LAWSUIT


def days(n: int) -> timedelta:
    return timedelta(days=n)


# -- worked examples -------------------------------------------------------------------------


def test_no_surcharge_up_to_and_on_the_due_date_and_the_rule_is_told():  # APL art. 72(1)
    for on in (DUE - days(14), DUE):
        quote = amount_due(Fine(1000_00, DUE), on)
        assert (quote.total_fen, quote.surcharge_fen, quote.surcharge_days) == (1000_00, 0, 0)
        assert "缴款期限至2026年12月8日" in quote.explanation
        assert "每日按罚款数额的3%加处罚款" in quote.explanation


def test_the_day_after_the_due_date_counts_one_day():  # APL art. 72(1)
    quote = amount_due(Fine(1000_00, DUE), DUE + days(1))
    assert (quote.surcharge_days, quote.surcharge_fen, quote.total_fen) == (1, 30_00, 1030_00)
    assert "自2026年12月9日起计，共1日" in quote.explanation


def test_twenty_days_late_is_sixty_percent_and_explained():  # APL art. 72(1)
    quote = amount_due(Fine(1000_00, DUE), date(2026, 12, 28))
    assert (quote.surcharge_days, quote.surcharge_fen, quote.total_fen) == (20, 600_00, 1600_00)
    assert quote.explanation.startswith(
        "加处罚款按罚款数额的3%每日计算，自2026年12月9日起计，共20日，不超过罚款数额"
    )


def test_the_surcharge_stops_at_the_fine_on_day_34():  # Administrative Coercion Law art. 45
    assert amount_due(Fine(1000_00, DUE), DUE + days(33)).surcharge_fen == 990_00
    capped = amount_due(Fine(1000_00, DUE), DUE + days(34))
    assert (capped.surcharge_fen, capped.total_fen, capped.lines[0].capped) == (1000_00, 2000_00, True)
    assert amount_due(Fine(1000_00, DUE), DUE + days(3650)).total_fen == 2000_00
    assert "已达罚款数额" in capped.explanation


def test_rounding_floors_once_over_the_whole_period():  # 3% × fine × days, floored to the fen
    # 333 fen × 3% = 9.99 fen a day: one day is 9 fen, two days 19 fen (flooring per day would give 18).
    assert amount_due(Fine(333, DUE), DUE + days(1)).surcharge_fen == 9
    assert amount_due(Fine(333, DUE), DUE + days(2)).surcharge_fen == 19
    assert amount_due(Fine(333, DUE), DUE + days(100)).surcharge_fen == 333  # capped
    assert amount_due(Fine(1, DUE), DUE + days(33)).surcharge_fen == 0  # 0.99 fen
    assert amount_due(Fine(1, DUE), DUE + days(34)).surcharge_fen == 1  # 1.02 fen, capped at 1


def test_days_under_reconsideration_are_not_counted_inclusive_of_both_ends():  # APL art. 73 para. 3
    pending = Suspension(R, date(2026, 12, 12), date(2026, 12, 15))
    quote = amount_due(Fine(1000_00, DUE), date(2026, 12, 28), suspensions=[pending])
    assert (quote.surcharge_days, quote.surcharge_fen) == (16, 480_00)
    assert "复议期间（2026年12月12日至2026年12月15日）不计" in quote.explanation


def test_a_pending_lawsuit_stops_the_surcharge_until_it_ends():  # APL art. 73 para. 3
    lawsuit = Suspension(L, DUE + days(6))
    assert amount_due(Fine(1000_00, DUE), DUE + days(5), suspensions=[lawsuit]).surcharge_days == 5
    later = amount_due(Fine(1000_00, DUE), DUE + days(300), suspensions=[lawsuit])
    assert later.surcharge_days == 5
    assert "诉讼期间（2026年12月14日起）不计" in later.explanation


def test_overlapping_suspensions_count_each_day_once_and_earlier_ones_do_not_matter():
    suspensions = [
        Suspension(R, DUE - days(30), DUE - days(1)),  # before the due date: nothing to suspend
        Suspension(R, DUE + days(1), DUE + days(10)),
        Suspension(L, DUE + days(5), DUE + days(12)),
    ]
    quote = amount_due(Fine(1000_00, DUE), DUE + days(20), suspensions=suspensions)
    assert quote.surcharge_days == 20 - 12
    assert "复议期间（2026年11月8日" not in quote.explanation


def test_an_approved_deferral_moves_the_due_date():  # APL art. 66
    deferral = Deferral(DUE + days(30))
    assert amount_due(Fine(1000_00, DUE), DUE + days(30), deferral=deferral).total_fen == 1000_00
    quote = amount_due(Fine(1000_00, DUE), DUE + days(32), deferral=deferral)
    assert (quote.surcharge_days, quote.lines[0].due_date) == (2, DUE + days(30))
    assert "经批准暂缓缴纳，缴款期限延至2027年1月7日" in quote.explanation


def test_each_instalment_has_its_own_due_date_and_surcharge():  # APL art. 66, 72(1)
    plan = InstalmentPlan.of([(DUE, 300_00), (DUE + days(30), 300_00), (DUE + days(60), 400_00)])
    quote = amount_due(Fine(1000_00, DUE), DUE + days(40), plan=plan)
    first, second, third = quote.lines
    assert (first.surcharge_days, first.surcharge_fen, first.capped) == (40, 300_00, True)
    assert (second.surcharge_days, second.surcharge_fen) == (10, 90_00)
    assert (third.surcharge_days, third.surcharge_fen, third.due_fen) == (0, 0, 400_00)
    assert quote.total_fen == 600_00 + 390_00 + 400_00
    assert quote.pay_now_fen == 600_00 + 390_00, "what has fallen due; the third instalment is not due yet"
    assert "第1期（缴款期限2026年12月8日，金额300.00元）" in quote.explanation
    assert quote.surcharge_days == 40


def test_instalments_paid_on_time_accrue_nothing_and_the_next_one_is_asked_for():
    plan = InstalmentPlan.of([(DUE, 300_00), (DUE + days(30), 700_00)])
    paid = [Payment(DUE, 300_00)]
    quote = amount_due(Fine(1000_00, DUE), DUE + days(10), plan=plan, payments=paid)
    assert [line.due_fen for line in quote.lines] == [0, 700_00]
    assert (quote.pay_now_fen, quote.total_fen, quote.paid_fen) == (700_00, 700_00, 300_00)
    assert "第1期（缴款期限2026年12月8日，金额300.00元）：已缴清。" in quote.explanation


def test_principal_paid_late_stops_accruing_the_next_day_and_surcharge_is_settled_first():
    # 10 days late the party pays 500 yuan: 300 of surcharge first (Civil Code art. 561 by
    # analogy), 200 of principal; 800 yuan then accrue 24 yuan a day.
    quote = amount_due(Fine(1000_00, DUE), DUE + days(12), payments=[Payment(DUE + days(10), 500_00)])
    line = quote.lines[0]
    assert (line.principal_outstanding_fen, line.surcharge_fen) == (800_00, 300_00 + 2 * 24_00)
    assert (line.surcharge_outstanding_fen, quote.total_fen) == (48_00, 848_00)


def test_paying_the_quote_on_its_day_settles_the_fine_and_more_is_overpaid():
    quote = amount_due(Fine(1000_00, DUE), DUE + days(5))
    after = amount_due(Fine(1000_00, DUE), DUE + days(50), payments=[Payment(DUE + days(5), quote.total_fen)])
    assert after.settled and after.overpaid_fen == 0
    twice = [Payment(DUE + days(5), quote.total_fen), Payment(DUE + days(6), 100)]
    assert amount_due(Fine(1000_00, DUE), DUE + days(6), payments=twice).overpaid_fen == 100


def test_payments_after_the_quote_date_are_ignored():
    quote = amount_due(Fine(1000_00, DUE), DUE, payments=[Payment(DUE + days(1), 1000_00)])
    assert quote.total_fen == 1000_00 and quote.paid_fen == 0


def test_a_fine_without_surcharge_never_grows():
    quote = amount_due(Fine(1000_00, DUE, surcharge_applies=False), DUE + days(100))
    assert quote.total_fen == 1000_00 and "不加处罚款" in quote.explanation
    assert "依据" not in quote.explanation


def test_a_quote_is_valid_until_2400_china_time_and_says_so():  # LAW.md: design rule
    quote = amount_due(Fine(1000_00, DUE), date(2026, 12, 28))
    assert quote.valid_until == datetime(2026, 12, 28, 16, 0, tzinfo=UTC)
    assert quote.valid_until.utcoffset() == timedelta(0)
    assert "有效期至2026年12月28日24:00（北京时间）" in quote.explanation


@pytest.mark.parametrize(
    "call",
    [
        lambda: amount_due(Fine(1000_00, DUE), datetime(2026, 12, 9, tzinfo=UTC)),  # an instant, not a date
        lambda: amount_due(Fine(1000_00, DUE), DUE, deferral=Deferral(DUE - days(1))),
        lambda: amount_due(
            Fine(1000_00, DUE),
            DUE,
            deferral=Deferral(DUE + days(1)),
            plan=InstalmentPlan.of([(DUE, 1000_00)]),
        ),
        lambda: amount_due(
            Fine(1000_00, DUE), DUE, plan=InstalmentPlan.of([(DUE, 500_00), (DUE + days(1), 400_00)])
        ),
        lambda: InstalmentPlan.of([(DUE, 500_00), (DUE, 500_00)]),
        lambda: InstalmentPlan(()),
        lambda: Suspension(R, DUE, DUE - days(1)),
        lambda: Fine(0, DUE),
        lambda: Payment(DUE, 0),
    ],
)
def test_contradictory_inputs_are_refused(call) -> None:
    with pytest.raises(InvalidQuoteInput):
        call()


@pytest.mark.parametrize("amount", [1000.0, True, "1000", -5])
def test_a_fine_is_integer_fen(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        Fine(amount, DUE)  # type: ignore[arg-type]


# -- an independent, day-by-day reference ---------------------------------------------------


def reference(
    fine: Fine, on: date, suspensions: list[Suspension], plan: InstalmentPlan | None, payments: list[Payment]
) -> list[tuple[int, int, int, int]]:
    """Per line: (principal outstanding, surcharge accrued, surcharge paid, days counted)."""
    schedule = (
        [(i.due_date, i.amount_fen) for i in plan.instalments] if plan else [(fine.due_date, fine.amount_fen)]
    )
    state = [[amount, 0, 0, 0] for _, amount in schedule]  # principal, fen-days, surcharge paid, days
    first = min([due for due, _ in schedule] + [p.paid_on for p in payments])
    day = first
    while day <= on:
        suspended = any(s.start <= day and (s.end is None or day <= s.end) for s in suspensions)
        for (due, _), line in zip(schedule, state, strict=True):
            if fine.surcharge_applies and day > due and not suspended and line[0] > 0:
                line[1] += line[0]
                line[3] += 1
        for payment in (p for p in payments if p.paid_on == day):
            money = payment.amount_fen
            for (_, amount), line in zip(schedule, state, strict=True):
                surcharge = min(amount, line[1] * 3 // 100)
                take = min(money, surcharge - line[2])
                line[2] += take
                money -= take
                take = min(money, line[0])
                line[0] -= take
                money -= take
        day += days(1)
    return [
        (line[0], min(amount, line[1] * 3 // 100), line[2], line[3])
        for (_, amount), line in zip(schedule, state, strict=True)
    ]


@st.composite
def cases(draw: st.DrawFn, with_payments: bool = True):
    amount = draw(st.integers(min_value=1, max_value=10**9))
    due = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    fine = Fine(amount, due, surcharge_applies=draw(st.booleans()) or draw(st.booleans()))
    on = due + days(draw(st.integers(min_value=-10, max_value=120)))
    suspensions = [
        Suspension(
            draw(st.sampled_from([R, L])),
            start := due + days(draw(st.integers(min_value=-20, max_value=100))),
            draw(st.one_of(st.none(), st.dates(min_value=start, max_value=start + days(40)))),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    plan = None
    parts = draw(st.integers(min_value=1, max_value=4))
    if parts > 1 and amount >= parts:
        cuts = sorted(
            draw(
                st.sets(
                    st.integers(min_value=1, max_value=amount - 1), min_size=parts - 1, max_size=parts - 1
                )
            )
        )
        amounts = [b - a for a, b in zip([0, *cuts], [*cuts, amount], strict=True)]
        gaps = draw(st.lists(st.integers(min_value=1, max_value=40), min_size=parts, max_size=parts))
        dates = [due + days(sum(gaps[:i])) for i in range(parts)]
        plan = InstalmentPlan.of(zip(dates, amounts, strict=True))
    payments = []
    if with_payments:
        payments = [
            Payment(
                due + days(draw(st.integers(min_value=-5, max_value=110))), draw(st.integers(1, 2 * amount))
            )
            for _ in range(draw(st.integers(min_value=0, max_value=3)))
        ]
    return fine, on, suspensions, plan, payments


def _quote(case, on: date | None = None, **changes) -> Quote:
    fine, case_on, suspensions, plan, payments = case
    args = {"suspensions": suspensions, "plan": plan, "payments": payments, **changes}
    return amount_due(fine, on or case_on, **args)


@settings(max_examples=300)
@given(cases())
def test_the_engine_agrees_with_the_day_by_day_reference(case) -> None:
    fine, on, suspensions, plan, payments = case
    quote = _quote(case)
    expected = reference(fine, on, suspensions, plan, [p for p in payments if p.paid_on <= on])
    got = [
        (
            x.principal_outstanding_fen,
            x.surcharge_fen,
            x.surcharge_fen - x.surcharge_outstanding_fen,
            x.surcharge_days,
        )
        for x in quote.lines
    ]
    assert got == expected


@settings(max_examples=300)
@given(cases())
def test_amounts_are_whole_fen_never_negative_and_never_above_twice_the_fine(case) -> None:
    quote = _quote(case)
    fine = case[0].amount_fen
    numbers = [
        quote.total_fen,
        quote.pay_now_fen,
        quote.surcharge_fen,
        quote.principal_outstanding_fen,
        quote.surcharge_outstanding_fen,
        quote.overpaid_fen,
        quote.paid_fen,
    ]
    numbers += [n for line in quote.lines for n in (line.due_fen, line.surcharge_fen, line.surcharge_days)]
    assert all(type(n) is int and n >= 0 for n in numbers)
    assert quote.surcharge_fen <= fine and quote.total_fen <= 2 * fine
    assert quote.pay_now_fen <= quote.total_fen


@settings(max_examples=200)
@given(cases(with_payments=False), st.integers(min_value=1, max_value=60))
def test_the_amount_never_decreases_with_time(case, later: int) -> None:
    before = _quote(case)
    after = _quote(case, on=case[1] + days(later))
    assert after.total_fen >= before.total_fen
    assert all(b.due_fen <= a.due_fen for b, a in zip(before.lines, after.lines, strict=True))


@settings(max_examples=200)
@given(cases(), st.dates(min_value=date(2019, 12, 1), max_value=date(2030, 6, 1)), st.integers(0, 60))
def test_suspended_days_never_increase_the_amount(case, start: date, length: int) -> None:  # APL art. 73
    extra = Suspension(R, start, start + days(length))
    assert _quote(case, suspensions=[*case[2], extra]).total_fen <= _quote(case).total_fen


@settings(max_examples=200)
@given(cases())
def test_paying_the_quoted_amount_leaves_nothing_due_that_day(case) -> None:
    _, on, _, _, payments = case
    quote = _quote(case)
    if quote.total_fen:
        settled = _quote(case, payments=[*payments, Payment(on, quote.total_fen)])
        assert settled.total_fen == 0 and settled.overpaid_fen == quote.overpaid_fen
    if quote.pay_now_fen:
        after = _quote(case, payments=[*payments, Payment(on, quote.pay_now_fen)])
        assert after.total_fen == quote.total_fen - quote.pay_now_fen
        assert all(line.due_fen == 0 for line in after.lines if line.due_date <= on)
