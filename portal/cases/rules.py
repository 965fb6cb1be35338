"""The order of a case's steps: which event an agency may record, given what came before.

Steps happen only in order (SECURITY.md, "Business logic", ASVS v5.0.0-2.3.1), and the order
is the law's:

- nothing happens in a closed case; a case closes only when no remedy is pending;
- filing (立案) comes before the prior notice, once;
- no decision without the prior notice of the proposed penalty, its facts, reasons and basis
  (APL art. 44, 62), nor before every party was informed and its windows to state, defend and
  request a hearing have run out (art. 45, 62, 64(1)) — unless that party expressly waived
  them (art. 62: a waiver recorded by the portal, ``PartyStanding.waived``); a hearing a party
  requested is scheduled, and a scheduled hearing is held, before the decision. One decision
  per case; the prior notice may be renewed until then (and a renewal starts new windows);
- a hearing needs the hearing right (art. 63) and a prior notice, and its time and place are
  notified at least 7 working days ahead (art. 64(2), 85); counted on the fallback (the
  year's arrangement not loaded) a notice later than the fallback's latest day is refused
  and one that may prove too short is recorded with a warning (``event_warnings``), as is
  one whose notice through the portal comes later than the agency's own;
- the decision's fine is not heavier than the one the current prior notice proposed
  (art. 45 para. 2): a heavier penalty needs a new prior notice, which starts new windows;
- reconsideration and lawsuits follow a decision, and end only after they started;
- only a running statement, hearing-request or payment window can be extended, and only to a
  later day (for the payment window under an instalment plan: later than its last instalment);
- an instalment plan (APL art. 66) follows a decision with a fine; its amounts add up to the
  decision's fine and its first instalment is not due before the day it is approved. A later
  plan replaces an earlier one, and a plan and a deferral (a payment-window extension)
  replace each other: the latest applies (``cases.deadlines.case_deadlines``, ``services.fine_views``);
- events are recorded in the order they happened.

Refusals are ``Conflict`` (409, the case's state forbids it) or ``Unprocessable`` (422, the
event's own data breaks a rule), each with a stable code whose Chinese title is in the
catalogue.

Each party's windows run from when that party was informed (``PartyStanding.times``: the
portal's service time where it served the notice); the service layer gathers the standings
of every party of the case. Without them (``parties=()``) the event's ``informed_at`` counts
for all, and nobody has waived anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from portal.cases.deadlines import (
    NOT_SERVED_HERE,
    CaseDeadline,
    DeadlineKind,
    PartyTimes,
    case_deadlines,
    find,
)
from portal.cases.events import EventKind, StageEvent, last
from portal.errors import Conflict, Unprocessable
from portal.evidence_hash import instant_text
from portal.legal_calendar import HolidayCalendar, china_date, hearing_notice_limit

_PROCEDURE_BEFORE_DECISION = (EventKind.PENALTY_NOTICE, EventKind.HEARING_SCHEDULED)


@dataclass(frozen=True)
class PartyStanding:
    """One party, as the decision rule sees it for the current prior notice: when the portal
    served it, whether it waived its windows, whether it asked for a hearing."""

    times: PartyTimes = NOT_SERVED_HERE
    waived: bool = False
    hearing_requested: bool = False


_EVERYONE_ALIKE = (PartyStanding(),)


def check_event(event: StageEvent, history: Sequence[StageEvent], *, hearing_right: bool,
                calendar: HolidayCalendar, parties: Sequence[PartyStanding] = ()) -> None:
    """Raise if ``event`` may not follow ``history`` (the case's events so far, in order);
    ``parties``: the standing of each party of the case (see the module docstring)."""
    standings = tuple(parties) or _EVERYONE_ALIKE
    if last(history, EventKind.CLOSED):
        raise Conflict(code="case_closed")
    latest = max((e.at for e in history if e.kind is not EventKind.REGISTERED), default=None)
    if latest is not None and event.at < latest:
        raise Unprocessable("occurred_out_of_order")
    decided = last(history, EventKind.DECIDED)
    if decided and event.kind in (EventKind.FILED, *_PROCEDURE_BEFORE_DECISION, EventKind.DECIDED):
        raise Conflict(code="already_decided")
    if event.kind is EventKind.FILED:
        _check_filed(history)
    elif event.kind is EventKind.PENALTY_NOTICE:
        informed = event.instant("informed_at")
        if informed is not None and informed < event.at:
            raise Unprocessable("informed_before_notice")
    elif event.kind is EventKind.HEARING_SCHEDULED:
        _check_hearing(event, history, hearing_right=hearing_right, calendar=calendar)
    elif event.kind is EventKind.DECIDED:
        _check_decision(event, history, standings, hearing_right=hearing_right, calendar=calendar)
    elif event.kind in (EventKind.RECONSIDERATION_STARTED, EventKind.LAWSUIT_STARTED,
                        EventKind.RECONSIDERATION_ENDED, EventKind.LAWSUIT_ENDED):
        _check_remedy(event, history, decided is not None)
    elif event.kind is EventKind.WINDOW_EXTENDED:
        _check_extension(event, history, standings, hearing_right=hearing_right, calendar=calendar)
    elif event.kind is EventKind.INSTALMENTS_APPROVED:
        _check_instalments(event, decided)
    elif event.kind is EventKind.CLOSED and _pending_remedies(history):
        raise Conflict(code="remedy_pending")


def _check_filed(history: Sequence[StageEvent]) -> None:
    if last(history, EventKind.FILED):
        raise Conflict(code="already_filed")
    if any(e.kind in _PROCEDURE_BEFORE_DECISION for e in history):
        raise Conflict(code="stage_out_of_order")


def _check_hearing(event: StageEvent, history: Sequence[StageEvent], *, hearing_right: bool,
                   calendar: HolidayCalendar) -> None:
    if not hearing_right:
        raise Conflict(code="no_hearing_right")
    if last(history, EventKind.PENALTY_NOTICE) is None:
        raise Conflict(code="notice_required")
    hearing_day = event.required_day("hearing_date")
    if hearing_day <= china_date(event.at):
        raise Unprocessable("hearing_before_notice", extra={"hearing_date": hearing_day.isoformat()})
    limit = hearing_notice_limit(hearing_day, calendar)
    if not limit.is_met_by(event.at):
        raise Unprocessable("hearing_notice_too_late", limit.explain(), extra={
            "latest_notice_date": limit.latest_notice_date.isoformat(),
            "hearing_date": hearing_day.isoformat(),
        })


def _check_decision(event: StageEvent, history: Sequence[StageEvent],
                    standings: Sequence[PartyStanding], *, hearing_right: bool,
                    calendar: HolidayCalendar) -> None:
    notice = last(history, EventKind.PENALTY_NOTICE)
    if notice is None:
        raise Conflict(code="notice_required")
    _check_not_heavier(event, notice)
    for standing in standings:
        deadlines = case_deadlines(history, hearing_right=hearing_right, calendar=calendar,
                                   times=standing.times)
        if find(deadlines, DeadlineKind.STATEMENT) is None:
            raise Conflict(code="party_not_informed")
        if standing.waived:
            continue  # APL art. 62: the party expressly gave up stating and defending
        for kind in (DeadlineKind.STATEMENT, DeadlineKind.HEARING_REQUEST):
            window = find(deadlines, kind)
            # counted on the fallback, the window stays open until the latest day any
            # arrangement could give: nothing is decided on a guess (LAW.md "Counting days")
            if window is not None and window.may_be_met_by(event.at):
                raise Conflict(window.explain(), code="rights_window_open",
                               extra={"window_open_until": instant_text(window.latest_ends_at_utc)})
    hearing = last(history, EventKind.HEARING_SCHEDULED)
    if any(s.hearing_requested for s in standings) and (hearing is None or hearing.seq < notice.seq):
        raise Conflict(code="hearing_requested")  # APL art. 63, 64: the hearing comes first
    hearing_day = hearing.day("hearing_date") if hearing else None
    if hearing_day is not None and china_date(event.at) < hearing_day:
        raise Conflict(code="hearing_pending")
    served = event.instant("served_at")
    if served is not None and served < event.at:
        raise Unprocessable("served_before_decision")


def _check_not_heavier(decision: StageEvent, notice: StageEvent) -> None:
    """APL art. 45 para. 2: the fine decided is not heavier than the current prior notice
    proposed; a heavier one needs a new prior notice (new facts), and so new windows."""
    proposed = notice.data.get("proposed_fine_fen")
    decided = int(decision.data.get("fine_fen", 0))
    if isinstance(proposed, int) and decided > proposed:
        raise Unprocessable("heavier_than_notice", extra={
            "proposed_fine_fen": proposed, "fine_fen": decided, "notice_seq": notice.seq})


@dataclass(frozen=True)
class EventWarning:
    """Something the agency should know about an event that was recorded all the same."""

    code: str
    data: Mapping[str, object] = field(default_factory=dict)


def event_warnings(event: StageEvent, *, calendar: HolidayCalendar) -> tuple[EventWarning, ...]:
    """What to tell the agency about ``event`` once it is recorded (``event.recorded_at``).

    A hearing's notice (APL art. 64(2), 85): when the party, told through the portal as the
    event is recorded, may have fewer than 7 working days before the hearing, because the
    year's arrangement is not loaded (the fallback) or because the portal's notice comes
    later than the one the agency gave (``occurred_at``). The party is notified all the same.
    A decision that does not name the reconsideration body or the court (APL art. 59(6)): the
    party is shown the periods without them.
    """
    if event.kind is EventKind.DECIDED:
        missing = [name for name in ("reconsideration_body", "court") if not event.data.get(name)]
        return (EventWarning("remedies_missing", {"fields": missing}),) if missing else ()
    hearing_day = event.day("hearing_date") if event.kind is EventKind.HEARING_SCHEDULED else None
    if hearing_day is None:
        return ()
    limit = hearing_notice_limit(hearing_day, calendar)
    if limit.certainly_met_by(event.recorded_at):
        return ()
    told_on = china_date(event.recorded_at)
    data: dict[str, object] = {
        "hearing_date": hearing_day.isoformat(),
        "latest_notice_date": limit.latest_notice_date.isoformat(),
        "working_days_before_hearing": max(
            0, calendar.working_days_between(told_on, hearing_day) - calendar.is_working_day(hearing_day)),
    }
    if limit.protective_notice_date is not None:
        data["certain_notice_date"] = limit.protective_notice_date.isoformat()
        data["fallback_years"] = list(limit.fallback_years)
    data["notified_through_portal_at"] = instant_text(event.recorded_at)
    return (EventWarning("hearing_notice_short", data),)


def _pending_remedies(history: Sequence[StageEvent]) -> set[EventKind]:
    pending: set[EventKind] = set()
    for event in history:
        if event.kind in (EventKind.RECONSIDERATION_STARTED, EventKind.LAWSUIT_STARTED):
            pending.add(event.kind)
        elif event.kind is EventKind.RECONSIDERATION_ENDED:
            pending.discard(EventKind.RECONSIDERATION_STARTED)
        elif event.kind is EventKind.LAWSUIT_ENDED:
            pending.discard(EventKind.LAWSUIT_STARTED)
    return pending


def _check_remedy(event: StageEvent, history: Sequence[StageEvent], decided: bool) -> None:
    if not decided:
        raise Conflict(code="decision_required")
    pending = _pending_remedies(history)
    if event.kind is EventKind.RECONSIDERATION_STARTED and event.kind in pending:
        raise Conflict(code="reconsideration_pending")
    if event.kind is EventKind.LAWSUIT_STARTED and event.kind in pending:
        raise Conflict(code="lawsuit_pending")
    if event.kind is EventKind.RECONSIDERATION_ENDED \
            and EventKind.RECONSIDERATION_STARTED not in pending:
        raise Conflict(code="no_reconsideration")
    if event.kind is EventKind.LAWSUIT_ENDED and EventKind.LAWSUIT_STARTED not in pending:
        raise Conflict(code="no_lawsuit")


def _check_extension(event: StageEvent, history: Sequence[StageEvent],
                     standings: Sequence[PartyStanding], *, hearing_right: bool,
                     calendar: HolidayCalendar) -> None:
    kind = DeadlineKind(str(event.data["deadline"]))
    running: list[CaseDeadline] = []
    for standing in standings:
        found = find(case_deadlines(history, hearing_right=hearing_right, calendar=calendar,
                                    times=standing.times), kind)
        if found is not None:
            running.append(found)
    if not running:
        raise Conflict(code="deadline_not_running")
    latest = max(deadline.last_day for deadline in running)
    new_last_day = event.required_day("new_last_day")
    if new_last_day <= latest:
        raise Unprocessable("extension_not_later", extra={"current_last_day": latest.isoformat()})


def _check_instalments(event: StageEvent, decided: StageEvent | None) -> None:
    if decided is None:
        raise Conflict(code="decision_required")
    fine_fen = int(decided.data.get("fine_fen", 0))
    if fine_fen <= 0:
        raise Conflict(code="decision_without_fine")
    instalments = event.schedule("instalments")
    total = sum(instalment.amount_fen for instalment in instalments)
    if total != fine_fen:
        raise Unprocessable("instalments_total_mismatch",
                            extra={"fine_fen": fine_fen, "instalments_total_fen": total})
    approved_on = china_date(event.at)
    if instalments[0].due_date < approved_on:
        # a plan that is overdue the day it is approved would surcharge the party at once
        raise Unprocessable("instalment_before_approval",
                            extra={"approved_on": approved_on.isoformat()})
