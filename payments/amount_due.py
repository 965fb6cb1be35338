"""The amount due on a fine on a given China date: fine plus surcharge, as a `Quote`.

The rules (LAW.md, "Fines, payment, receipts"):

- A fine not paid by its due date is surcharged 3% of the fine for each day from the day
  after the due date (APL art. 72(1)): on the first day after the due date one day counts,
  so the days counted are those in (due date, quote date].
- The surcharge never exceeds the fine (Administrative Coercion Law art. 45), so the total
  never exceeds twice the fine.
- Days while the party's administrative reconsideration or lawsuit is pending are not counted
  (APL art. 73 para. 3). A `Suspension` covers its start and end dates inclusive, the reading
  in the party's favour; overlapping suspensions count each day once; one still pending
  (no end) covers every day from its start.
- An approved deferral (APL art. 66) moves the due date; surcharge counts from the new one.
- An approved instalment plan (APL art. 66) replaces the single due date: each instalment
  has its own due date and its own surcharge on its own outstanding amount, capped at the
  instalment's amount (so the caps add up to the fine).

Rounding: the surcharge of a line is ``min(amount, floor(3 × Σ outstanding_fen_per_day / 100))``,
one floor over the whole period. That is the largest whole number of fen not above the amount
the law defines (3% × amount × days). Flooring each day's 3% instead would undercharge by up
to a fen a day and make the result depend on how the days are grouped; rounding half-up
could charge more than the statute allows, which a public body must not do.

Payments (`Payment`, with the China date they were made) are replayed in date order. A
payment on day d first accrues every line through day d (the quote of day d includes day d),
then settles the instalment that fell due first (as Civil Code art. 560 settles the debt due
first) and, within an instalment, the surcharge before the principal (as art. 561 puts
interest before principal). Principal paid on day d stops accruing from day d + 1, so paying
a quote's amount on its date leaves nothing due that day. The portal only accepts payments
equal to the amount due (`payments.callbacks`), so the allocation order matters only for
money that arrives some other way.

A quote is valid until 24:00 China time of its date (`valid_until`, an aware UTC instant)
and its Chinese `explanation` says so. The caller converts instants to China dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from payments.errors import InvalidQuoteInput
from payments.explanation import explain_quote
from payments.money import check_fen

__all__ = [
    "SURCHARGE_PERCENT_PER_DAY",
    "Deferral",
    "Fine",
    "Instalment",
    "InstalmentPlan",
    "Payment",
    "Quote",
    "QuoteLine",
    "Suspension",
    "SuspensionKind",
    "Terms",
    "amount_due",
    "quote_valid_until",
]

SURCHARGE_PERCENT_PER_DAY = 3
_CHINA = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)


def _check_date(value: object, name: str) -> date:
    # datetime is a subclass of date: an instant here would silently use its UTC date.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidQuoteInput(f"{name} must be a China date (datetime.date), not {type(value).__name__}")
    return value


def _check_positive(value: object, name: str) -> int:
    amount = check_fen(value, name=name)
    if amount == 0:
        raise InvalidQuoteInput(f"{name} must be positive")
    return amount


@dataclass(frozen=True)
class Fine:
    """A payable fine: its amount and the last day to pay it without surcharge."""

    amount_fen: int
    due_date: date
    surcharge_applies: bool = True
    """False where the law or the decision excludes the surcharge."""

    def __post_init__(self) -> None:
        _check_positive(self.amount_fen, "amount_fen")
        _check_date(self.due_date, "due_date")


class SuspensionKind(StrEnum):
    """Periods during which the surcharge does not accrue: proceedings (APL art. 73 para. 3),
    and days after a due date counted on a guess that the year's holiday arrangement, not
    yet published, could still make part of the period (the caller knows which)."""

    RECONSIDERATION = "reconsideration"
    LAWSUIT = "lawsuit"
    CALENDAR_PENDING = "calendar_pending"


@dataclass(frozen=True)
class Suspension:
    """A reconsideration or lawsuit pending from ``start`` to ``end`` (both inclusive).

    ``end`` is None while the proceeding is still pending.
    """

    kind: SuspensionKind
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        _check_date(self.start, "start")
        if self.end is not None and _check_date(self.end, "end") < self.start:
            raise InvalidQuoteInput("a suspension cannot end before it starts")


@dataclass(frozen=True)
class Deferral:
    """An approved deferral: the fine is now due on ``due_date``."""

    due_date: date

    def __post_init__(self) -> None:
        _check_date(self.due_date, "due_date")


@dataclass(frozen=True)
class Instalment:
    """One instalment of an approved plan."""

    due_date: date
    amount_fen: int

    def __post_init__(self) -> None:
        _check_date(self.due_date, "due_date")
        _check_positive(self.amount_fen, "amount_fen")


@dataclass(frozen=True)
class InstalmentPlan:
    """An approved instalment plan: due dates strictly increasing, amounts summing to the fine."""

    instalments: tuple[Instalment, ...]

    def __post_init__(self) -> None:
        if not self.instalments:
            raise InvalidQuoteInput("an instalment plan needs at least one instalment")
        dates = [i.due_date for i in self.instalments]
        if any(b <= a for a, b in pairwise(dates)):
            raise InvalidQuoteInput("instalment due dates must be strictly increasing")

    @classmethod
    def of(cls, pairs: Iterable[tuple[date, int]]) -> InstalmentPlan:
        """A plan from ``(due_date, amount_fen)`` pairs."""
        return cls(tuple(Instalment(d, a) for d, a in pairs))

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.instalments)


@dataclass(frozen=True)
class Payment:
    """Money the platform confirmed, on the China date it was paid."""

    paid_on: date
    amount_fen: int

    def __post_init__(self) -> None:
        _check_date(self.paid_on, "paid_on")
        _check_positive(self.amount_fen, "amount_fen")


@dataclass(frozen=True)
class QuoteLine:
    """The fine (number 1 without a plan) or one instalment, as of the quote's date."""

    number: int
    due_date: date
    principal_fen: int
    principal_outstanding_fen: int
    surcharge_days: int
    """Days counted: after the due date, not suspended, with principal outstanding."""
    surcharge_fen: int
    """Surcharge accrued so far, capped at ``principal_fen``."""
    surcharge_outstanding_fen: int
    capped: bool
    due_fen: int

    @property
    def surcharge_from(self) -> date:
        return self.due_date + _DAY


@dataclass(frozen=True)
class Quote:
    """What is owed on a fine on one China date, with its breakdown and explanation."""

    on: date
    fine_fen: int
    paid_fen: int
    lines: tuple[QuoteLine, ...]
    principal_outstanding_fen: int
    surcharge_fen: int
    surcharge_outstanding_fen: int
    total_fen: int
    """Everything still owed: paying it settles the fine today."""
    pay_now_fen: int
    """What the portal asks for now: every line due by today, else the next open line."""
    overpaid_fen: int
    valid_until: datetime
    explanation: str = field(compare=False)

    @property
    def surcharge_days(self) -> int:
        """Days counted for the fine, or the most for any one instalment."""
        return max(line.surcharge_days for line in self.lines)

    @property
    def settled(self) -> bool:
        return self.total_fen == 0

    @property
    def pay_now_lines(self) -> frozenset[int]:
        """The numbers of the lines ``pay_now_fen`` is made of."""
        return frozenset(line.number for line in _pay_now(self.lines, self.on))


def _pay_now(lines: Sequence[QuoteLine], on: date) -> list[QuoteLine]:
    """What the portal asks for on ``on``: every open line due by then, else the next open line
    (so under a plan a party may pay ahead one instalment at a time)."""
    open_lines = [line for line in lines if line.due_fen]
    return [line for line in open_lines if line.due_date <= on] or open_lines[:1]


def quote_valid_until(on: date) -> datetime:
    """24:00 China time of ``on`` (00:00 of the next day there) as an aware UTC instant."""
    return datetime.combine(on + _DAY, time(0), tzinfo=_CHINA).astimezone(UTC)


class _Suspended:
    """The union of suspension periods as sorted, disjoint (start, end) date ranges."""

    def __init__(self, suspensions: Sequence[Suspension], horizon: date) -> None:
        ranges = sorted((s.start, s.end or max(horizon, s.start)) for s in suspensions)
        merged: list[tuple[date, date]] = []
        for start, end in ranges:
            if merged and start <= merged[-1][1] + _DAY:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.ranges = merged

    def free_days(self, first: date, last: date) -> int:
        """Days in [first, last] that no suspension covers."""
        if last < first:
            return 0
        covered = sum(
            (min(end, last) - max(start, first)).days + 1
            for start, end in self.ranges
            if start <= last and end >= first
        )
        return (last - first).days + 1 - covered


class _Ledger:
    """One line's running account while payments are replayed."""

    def __init__(self, number: int, due: date, amount: int, surcharged: bool) -> None:
        self.number, self.due, self.amount, self.surcharged = number, due, amount, surcharged
        self.principal = amount
        self.surcharge_paid = 0
        self.fen_days = 0
        self.days = 0
        self.accrued_to = due

    def accrue(self, to: date, suspended: _Suspended) -> None:
        if to <= self.accrued_to:
            return
        if self.principal and self.surcharged:
            n = suspended.free_days(self.accrued_to + _DAY, to)
            self.fen_days += self.principal * n
            self.days += n
        self.accrued_to = to

    @property
    def surcharge(self) -> int:
        return min(self.amount, self.fen_days * SURCHARGE_PERCENT_PER_DAY // 100)

    @property
    def due_now(self) -> int:
        return self.principal + self.surcharge - self.surcharge_paid

    def settle(self, money: int) -> int:
        """Take what this line is owed from ``money``, surcharge first; return the rest."""
        take = min(money, self.surcharge - self.surcharge_paid)
        self.surcharge_paid += take
        money -= take
        take = min(money, self.principal)
        self.principal -= take
        return money - take

    def line(self) -> QuoteLine:
        return QuoteLine(
            number=self.number,
            due_date=self.due,
            principal_fen=self.amount,
            principal_outstanding_fen=self.principal,
            surcharge_days=self.days,
            surcharge_fen=self.surcharge,
            surcharge_outstanding_fen=self.surcharge - self.surcharge_paid,
            capped=self.surcharged and self.surcharge == self.amount,
            due_fen=self.due_now,
        )


@dataclass(frozen=True)
class Terms:
    """A fine with everything besides the date and the payments that decides what it owes."""

    fine: Fine
    suspensions: tuple[Suspension, ...] = ()
    deferral: Deferral | None = None
    plan: InstalmentPlan | None = None
    """At most one of ``deferral`` and ``plan``."""

    def quote(self, on: date, payments: Sequence[Payment] = ()) -> Quote:
        """`amount_due` on ``on`` under these terms."""
        return amount_due(self.fine, on, suspensions=self.suspensions, deferral=self.deferral,
                          plan=self.plan, payments=payments)


def amount_due(
    fine: Fine,
    on: date,
    *,
    suspensions: Sequence[Suspension] = (),
    deferral: Deferral | None = None,
    plan: InstalmentPlan | None = None,
    payments: Sequence[Payment] = (),
) -> Quote:
    """The quote for ``fine`` on the China date ``on``; payments after ``on`` are ignored."""
    _check_date(on, "on")
    if deferral is not None and plan is not None:
        raise InvalidQuoteInput("a fine is either deferred or paid in instalments, not both")
    if deferral is not None and deferral.due_date < fine.due_date:
        raise InvalidQuoteInput("a deferral cannot bring the due date forward")
    if plan is not None and plan.total_fen != fine.amount_fen:
        raise InvalidQuoteInput("the instalments must add up to the fine")

    if plan is not None:
        schedule = [(i.due_date, i.amount_fen) for i in plan.instalments]
    else:
        schedule = [(deferral.due_date if deferral else fine.due_date, fine.amount_fen)]
    ledgers = [_Ledger(n, d, a, fine.surcharge_applies) for n, (d, a) in enumerate(schedule, start=1)]
    suspended = _Suspended(suspensions, on)

    overpaid = 0
    paid = 0
    for payment in sorted((p for p in payments if p.paid_on <= on), key=lambda p: p.paid_on):
        paid += payment.amount_fen
        money = payment.amount_fen
        for ledger in ledgers:
            ledger.accrue(payment.paid_on, suspended)
            money = ledger.settle(money)
        overpaid += money
    for ledger in ledgers:
        ledger.accrue(on, suspended)

    lines = tuple(ledger.line() for ledger in ledgers)
    return Quote(
        on=on,
        fine_fen=fine.amount_fen,
        paid_fen=paid,
        lines=lines,
        principal_outstanding_fen=sum(line.principal_outstanding_fen for line in lines),
        surcharge_fen=sum(line.surcharge_fen for line in lines),
        surcharge_outstanding_fen=sum(line.surcharge_outstanding_fen for line in lines),
        total_fen=sum(line.due_fen for line in lines),
        pay_now_fen=sum(line.due_fen for line in _pay_now(lines, on)),
        overpaid_fen=overpaid,
        valid_until=quote_valid_until(on),
        explanation=explain_quote(lines, on, fine, suspensions, deferral, plan),
    )
