"""Every deadline that runs in a case, computed from its events with ``portal.legal_calendar``.

Which periods run, and from what (LAW.md, "Rights before a decision", "Counting days"):

- the prior notice of a penalty (APL art. 44) starts, from the moment the party is informed,
  the window to state and defend and, where the case carries the hearing right (art. 63), the
  5 working days to request a hearing (art. 64(1), 85);
- a scheduled hearing binds the agency to have notified it 7 working days ahead (art. 64(2));
- a decision not yet served must be served within 7 working days (art. 61); once served, the
  fine is paid within 15 days (art. 67) and the remedies run: reconsideration 60 days
  (Administrative Reconsideration Law art. 20), lawsuit 6 months (Administrative Procedure
  Law art. 46).

An agency may extend the statement, hearing-request and payment windows (``window_extended``);
the party then sees the period the law gives and the extension, both. An extension counts only
for the period it was made for: a new prior notice starts new windows.

An approved instalment plan (``instalments_approved``, APL art. 66) changes the payment
period the way a deferral does, and the latest of the two applies: the deadline then carries
the plan (``InstalmentSchedule``), its ``last_day`` is the last instalment's due date, its
explanation lists every instalment, and ``next_instalment`` answers the one due next. Which
instalments are paid is the fine's business (``services.fine_views``), not the case's.

``CaseDeadline`` wraps the ``Deadline`` (or, for the hearing notice, ``HearingNoticeLimit``)
that ``legal_calendar`` computed, with its name and any extension; it answers ``last_day``,
``ends_at_utc``, ``is_met_by`` and ``explain`` like a ``Deadline`` does, with the extension
applied.

Deadlines are a party's: each party may have been informed and served at a different moment.
Where the portal served the party the prior notice or the decision itself (the document's
arrival in the party's mailbox, FJ art. 19), ``PartyTimes`` carries that service time and it
takes the place of the agency's ``informed_at`` / ``served_at`` for that party; the period is
then explained as running from the service (送达于 …). Without it, the event's instants count.
An extension is one date for the whole case: for a party whose own period already ends later,
it changes nothing.

A stored event whose date no calendar can count from (a hearing on 3 January of year 1, a
window extended to 31 December 9999, from before the API bounded dates) must not break every
read of the case: such a deadline is left out and named (``unreadable_deadlines``), and the
rest are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from payments.money import format_yuan
from portal import catalogue
from portal.cases.events import EventKind, ScheduledInstalment, StageEvent, last
from portal.legal_calendar import (
    Deadline,
    HearingNoticeLimit,
    HolidayCalendar,
    Trigger,
    decision_service_deadline,
    end_of_china_day_utc,
    hearing_notice_limit,
    hearing_request_deadline,
    lawsuit_deadline,
    payment_deadline,
    reconsideration_deadline,
    statement_deadline,
)


class DeadlineKind(StrEnum):
    STATEMENT = "statement"
    HEARING_REQUEST = "hearing_request"
    HEARING_NOTICE = "hearing_notice"
    DECISION_SERVICE = "decision_service"
    PAYMENT = "payment"
    RECONSIDERATION = "reconsideration"
    LAWSUIT = "lawsuit"


@dataclass(frozen=True)
class Extension:
    """An agency's extension of a period: the new last day, why, and when it was decided."""

    last_day: date
    reason: str
    decided_at: datetime

    @property
    def ends_at_utc(self) -> datetime:
        return end_of_china_day_utc(self.last_day)


@dataclass(frozen=True)
class InstalmentSchedule:
    """An agency's approval of payment by instalments: each instalment's due date and amount,
    why, and when it was decided."""

    instalments: tuple[ScheduledInstalment, ...]
    reason: str
    decided_at: datetime

    @property
    def last_day(self) -> date:
        return self.instalments[-1].due_date

    def next_instalment(self, instant: datetime) -> tuple[int, ScheduledInstalment] | None:
        """The number and instalment whose due date has not ended at ``instant``, if any."""
        return next(((number, instalment) for number, instalment in enumerate(self.instalments, 1)
                     if instant < end_of_china_day_utc(instalment.due_date)), None)

    def explain(self) -> str:
        items = "；".join(catalogue.CASES["deadline.instalment"].format(
            n=number, day=_format(instalment.due_date), amount=format_yuan(instalment.amount_fen))
            for number, instalment in enumerate(self.instalments, 1))
        return catalogue.CASES["deadline.instalments"].format(
            reason=self.reason, count=len(self.instalments), items=items)


@dataclass(frozen=True)
class CaseDeadline:
    """A named deadline of a case; ``party`` false for the agency's own deadlines. At most one
    of ``extension`` and ``plan`` (payment only) is set: whichever the agency decided last."""

    kind: DeadlineKind
    computed: Deadline | HearingNoticeLimit
    party: bool
    trigger_seq: int
    extension: Extension | None = None
    plan: InstalmentSchedule | None = None
    venue: str | None = None
    """Where a remedy is sought: the reconsideration body or the court the decision named."""

    @property
    def label(self) -> str:
        return catalogue.CASES[f"deadline.{self.kind.value}"]

    @property
    def statutory_last_day(self) -> date:
        if isinstance(self.computed, HearingNoticeLimit):
            return self.computed.latest_notice_date
        return self.computed.last_day

    @property
    def last_day(self) -> date:
        if self.plan:
            return self.plan.last_day
        return self.extension.last_day if self.extension else self.statutory_last_day

    @property
    def ends_at_utc(self) -> datetime:
        if self.plan:
            return end_of_china_day_utc(self.plan.last_day)
        if self.extension:
            return self.extension.ends_at_utc
        if isinstance(self.computed, HearingNoticeLimit):
            return self.computed.notice_by_utc
        return self.computed.ends_at_utc

    @property
    def basis(self) -> str:
        return self.computed.basis

    @property
    def fallback_years(self) -> tuple[int, ...]:
        return self.computed.fallback_years

    @property
    def fallback_warning(self) -> str | None:
        return self.computed.fallback_warning

    def is_met_by(self, instant: datetime) -> bool:
        return instant < self.ends_at_utc

    @property
    def latest_ends_at_utc(self) -> datetime:
        """When nothing can be held against the party any more: ``ends_at_utc``, unless the
        period was counted on the fallback and an arrangement still to come could end it
        later (``legal_calendar.Deadline.latest_last_day``)."""
        if isinstance(self.computed, HearingNoticeLimit):
            return self.ends_at_utc
        return max(self.ends_at_utc, self.computed.latest_ends_at_utc)

    @property
    def latest_last_day(self) -> date:
        """The last day of ``latest_ends_at_utc``."""
        if isinstance(self.computed, HearingNoticeLimit):
            return self.last_day
        return max(self.last_day, self.computed.latest_last_day)

    @property
    def uncertain(self) -> bool:
        """Counted on the fallback, and the arrangement still to come could end it later."""
        return self.latest_ends_at_utc > self.ends_at_utc

    def may_be_met_by(self, instant: datetime) -> bool:
        """Whether an act at ``instant`` may be in time: such an act is never refused as late
        on the fallback alone (LAW.md "Counting days"); it is flagged for the agency."""
        return instant < self.latest_ends_at_utc

    def explain(self) -> str:
        """How the law counts the period (``Deadline.explain``), then any extension or plan."""
        text = self.computed.explain()
        if self.extension:
            text += "；" + catalogue.CASES["deadline.extended"].format(
                day=_format(self.extension.last_day), reason=self.extension.reason)
        if self.plan:
            text += "；" + self.plan.explain()
        return text


def _format(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class PartyTimes:
    """When the portal served one party the current prior notice and the decision (their
    arrival in its mailbox); ``None`` where it did not, so the event's own instant counts."""

    notice_served_at: datetime | None = None
    decision_served_at: datetime | None = None


NOT_SERVED_HERE = PartyTimes()


def _from_service(deadline: Deadline) -> Deadline:
    return replace(deadline, trigger=Trigger.SERVED)


def case_deadlines(events: Sequence[StageEvent], *, hearing_right: bool,
                   calendar: HolidayCalendar, times: PartyTimes = NOT_SERVED_HERE) -> list[CaseDeadline]:
    """Every deadline the events start for the party ``times`` describes, in the order the
    procedure meets them; one that cannot be counted is left out (``unreadable_deadlines``)."""
    return [deadline for deadline in _all_deadlines(events, hearing_right, calendar, times)
            if isinstance(deadline, CaseDeadline)]


def unreadable_deadlines(events: Sequence[StageEvent], *, hearing_right: bool,
                         calendar: HolidayCalendar,
                         times: PartyTimes = NOT_SERVED_HERE) -> tuple[DeadlineKind, ...]:
    """The deadlines ``case_deadlines`` had to leave out: their stored dates lie beyond any
    calendar (see the module docstring)."""
    return tuple(deadline for deadline in _all_deadlines(events, hearing_right, calendar, times)
                 if isinstance(deadline, DeadlineKind))


def _all_deadlines(events: Sequence[StageEvent], hearing_right: bool, calendar: HolidayCalendar,
                   times: PartyTimes) -> list[CaseDeadline | DeadlineKind]:
    found: list[CaseDeadline | DeadlineKind] = []
    for deadline in _computed(events, hearing_right, calendar, times):
        if isinstance(deadline, DeadlineKind):
            found.append(deadline)
            continue
        try:
            extended = _extended(deadline, events)
            _ = (extended.explain(), extended.latest_ends_at_utc)  # every date it shows, counted
        except (OverflowError, ValueError):
            found.append(deadline.kind)
        else:
            found.append(extended)
    return found


def _computed(events: Sequence[StageEvent], hearing_right: bool, calendar: HolidayCalendar,
              times: PartyTimes) -> list[CaseDeadline | DeadlineKind]:
    found: list[CaseDeadline | DeadlineKind] = []
    notice = last(events, EventKind.PENALTY_NOTICE)
    informed = times.notice_served_at or (notice.instant("informed_at") if notice else None)
    served_here = times.notice_served_at is not None
    if notice and informed:
        statement = statement_deadline(informed, calendar)
        found.append(CaseDeadline(DeadlineKind.STATEMENT,
                                  _from_service(statement) if served_here else statement,
                                  True, notice.seq))
        if hearing_right:
            request = hearing_request_deadline(informed, calendar)
            found.append(CaseDeadline(DeadlineKind.HEARING_REQUEST,
                                      _from_service(request) if served_here else request,
                                      True, notice.seq))
    hearing = last(events, EventKind.HEARING_SCHEDULED)
    hearing_day = hearing.day("hearing_date") if hearing else None
    if hearing and hearing_day:
        try:
            limit = hearing_notice_limit(hearing_day, calendar)
        except (OverflowError, ValueError):
            found.append(DeadlineKind.HEARING_NOTICE)  # a stored date beyond any calendar
        else:
            found.append(CaseDeadline(DeadlineKind.HEARING_NOTICE, limit, False, hearing.seq))
    decided = last(events, EventKind.DECIDED)
    if decided:
        found.extend(_after_decision(decided, calendar,
                                     times.decision_served_at or decided.instant("served_at")))
    return found


def _after_decision(decided: StageEvent, calendar: HolidayCalendar,
                    served: datetime | None) -> list[CaseDeadline]:
    if served is None:
        return [CaseDeadline(DeadlineKind.DECISION_SERVICE,
                             decision_service_deadline(decided.at, calendar), False, decided.seq)]
    found = []
    if int(decided.data.get("fine_fen", 0)) > 0:
        found.append(CaseDeadline(DeadlineKind.PAYMENT, payment_deadline(served, calendar), True,
                                  decided.seq))
    found.append(CaseDeadline(DeadlineKind.RECONSIDERATION,
                              reconsideration_deadline(served, calendar), True, decided.seq,
                              venue=_text_or_none(decided.data.get("reconsideration_body"))))
    found.append(CaseDeadline(DeadlineKind.LAWSUIT, lawsuit_deadline(served, calendar), True,
                              decided.seq, venue=_text_or_none(decided.data.get("court"))))
    return found


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _extended(deadline: CaseDeadline, events: Sequence[StageEvent]) -> CaseDeadline:
    """The deadline with the latest extension (or, for payment, instalment plan) made for it
    after its trigger, if any."""
    extension = None
    plan = None
    for event in events:
        if event.seq <= deadline.trigger_seq:
            continue
        if (event.kind is EventKind.WINDOW_EXTENDED
                and event.data.get("deadline") == deadline.kind.value):
            new_last = event.required_day("new_last_day")
            if new_last <= deadline.statutory_last_day:
                continue  # this party's own period already runs longer
            extension, plan = Extension(new_last, str(event.data.get("reason", "")), event.at), None
        elif event.kind is EventKind.INSTALMENTS_APPROVED and deadline.kind is DeadlineKind.PAYMENT:
            plan = InstalmentSchedule(event.schedule("instalments"), str(event.data.get("reason", "")),
                                      event.at)
            extension = None
    if extension is None and plan is None:
        return deadline
    return replace(deadline, extension=extension, plan=plan)


def find(deadlines: Sequence[CaseDeadline], kind: DeadlineKind) -> CaseDeadline | None:
    return next((deadline for deadline in deadlines if deadline.kind is kind), None)
