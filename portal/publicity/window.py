"""How long a published item stays public, and when it may be taken down: the window rules.

The portal enforces these itself instead of trusting the agency (LAW.md "Publicity and
privacy"):

- An item is public from its publication for at least 60 days and at most 2 years (FJ art.
  21). Without a period of its own it stays the full 2 years: the instant two calendar years
  later, counted in China time (29 February runs to 28 February). An agency may pick a
  shorter window of 60 to 730 days without citing anything.
- Where a law fixes another period, the agency cites it (``basis``) and may then choose
  anything from ``CITED_MIN_DAYS`` (7) to ``CITED_MAX_DAYS`` (5 years): short enough for a
  law that asks for a week's notice, long enough for the credit rules that keep serious
  violations public for three years, and never open-ended. These two limits are the
  portal's, not a statute's; they are documented in the README.
- The window ends by itself: every public query filters on ``start <= now < end``, so an item
  disappears from pages, search and export at that instant without a job running.
- A changed item is published again under the same rule (FJ art. 21): its window, with the
  same period, runs from the new version's publication.
- Before the 60-day minimum has run, an item may be withdrawn only because the decision was
  changed, revoked, or confirmed illegal or invalid (APL art. 48; the 3-day duty to withdraw
  then overrides the minimum). After it, any ground will do. Nothing can be withdrawn once
  its window has ended: it is no longer public.
- Decisions are published within 7 working days of being made (State Council Office guidance,
  2018); a later publication is accepted with a warning, counted by ``legal_calendar``.

Plain functions on values: no clock, database or settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from portal.catalogue import PUBLICITY
from portal.legal_calendar import (
    CHINA_TZ,
    Deadline,
    HolidayCalendar,
    Period,
    PeriodUnit,
    Trigger,
    compute_deadline,
    publicity_deadline,
)

MIN_PUBLIC_DAYS = 60  # FJ art. 21
MAX_PUBLIC_YEARS = 2  # FJ art. 21
MAX_UNCITED_DAYS = 730
CITED_MIN_DAYS = 7
CITED_MAX_DAYS = 1826  # 5 years
MAX_BASIS_LENGTH = 200


class WithdrawalGround(StrEnum):
    """Why an item is withdrawn; the first four are the grounds of APL art. 48."""

    DECISION_CHANGED = "decision_changed"
    DECISION_REVOKED = "decision_revoked"
    CONFIRMED_ILLEGAL = "confirmed_illegal"
    CONFIRMED_INVALID = "confirmed_invalid"
    OTHER = "other"

    @property
    def is_apl_48(self) -> bool:
        return self is not WithdrawalGround.OTHER


@dataclass(frozen=True)
class PublicityPeriod:
    """How long an item stays public: ``days`` None is the 2-year maximum of FJ art. 21."""

    days: int | None = None
    basis: str | None = None

    def problems(self) -> dict[str, str]:
        """Field name -> error code for a period outside the limits (module docstring)."""
        errors: dict[str, str] = {}
        basis = (self.basis or "").strip()
        if len(basis) > MAX_BASIS_LENGTH:
            errors["publicity_basis"] = "too_long"
        if self.days is None:
            return errors
        if basis and not CITED_MIN_DAYS <= self.days <= CITED_MAX_DAYS:
            errors["publicity_days"] = "out_of_range"
        elif not basis and not MIN_PUBLIC_DAYS <= self.days <= MAX_UNCITED_DAYS:
            errors["publicity_days"] = "basis_required"
        return errors

    def end(self, start: datetime) -> datetime:
        """The exclusive end of a window opening at ``start`` (aware)."""
        if self.days is not None:
            return start + timedelta(days=self.days)
        return years_later(start, MAX_PUBLIC_YEARS)


def years_later(instant: datetime, years: int) -> datetime:
    """The same China wall-clock time ``years`` calendar years later (29 Feb -> 28 Feb)."""
    local = instant.astimezone(CHINA_TZ)
    try:
        moved = local.replace(year=local.year + years)
    except ValueError:  # 29 February in a year without one
        moved = local.replace(year=local.year + years, day=28)
    return moved.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """When an item is public: ``start <= now < end``; ``minimum_end`` is when the 60 days
    of FJ art. 21 have run (never after ``end``: a cited shorter period ends sooner)."""

    start: datetime
    end: datetime

    @classmethod
    def opening(cls, start: datetime, period: PublicityPeriod) -> Window:
        return cls(start, period.end(start))

    @property
    def minimum_end(self) -> datetime:
        return min(self.end, self.start + timedelta(days=MIN_PUBLIC_DAYS))

    def is_public(self, now: datetime) -> bool:
        return self.start <= now < self.end


def withdrawal_refusal(window: Window, now: datetime, ground: WithdrawalGround) -> str | None:
    """Why a withdrawal at ``now`` on ``ground`` is refused (a problem code), or None."""
    if now >= window.end:
        return "publication_expired"
    if now < window.minimum_end and not ground.is_apl_48:
        return "withdrawal_too_early"  # FJ art. 21 minimum; only APL art. 48 overrides it
    return None


@dataclass(frozen=True)
class LatePublication:
    """A decision published after the 7 working days of the 2018 guidance."""

    deadline: Deadline
    published_on: date
    working_days: int


def late_publication(decided_on: date, published_at: datetime,
                     calendar: HolidayCalendar) -> LatePublication | None:
    """The lateness of publishing at ``published_at`` a decision of ``decided_on``, if late."""
    deadline = publicity_deadline(decided_on, calendar)
    if deadline.is_met_by(published_at):
        return None
    published_on = published_at.astimezone(CHINA_TZ).date()
    return LatePublication(deadline, published_on,
                           calendar.working_days_between(decided_on, published_on))


def late_withdrawal(occurred_on: date, withdrawn_at: datetime,
                    calendar: HolidayCalendar) -> Deadline | None:
    """The APL art. 48 deadline (3 days: working days, art. 85) that a withdrawal at
    ``withdrawn_at`` missed, counted from the day the decision was changed, revoked or
    confirmed illegal or invalid; None when it was in time."""
    deadline = compute_deadline(occurred_on, Period(3, PeriodUnit.WORKING_DAYS), calendar,
                                trigger=Trigger.DECIDED,
                                basis=PUBLICITY["basis.apl_48"])
    return None if deadline.is_met_by(withdrawn_at) else deadline
