"""What happens in a case, as values: the stage events an agency records, their data, and how
they read to a party (timeline) and to the public (status).

A case's history is not a set of columns but the events of its evidence chain ``case:<id>``
(``portal.models.cases``), so it can only grow and every step is tamper-evident. This module
owns the shape of those events: which kinds exist, which fields each carries (``SPECS``), how
an agency's JSON becomes a canonical payload (``parse_event_data``: every field checked, each
bad field named with a stable code, nothing stored half-checked), and how stored payloads read
back (``StageEvent``). The order rules live in ``portal.cases.rules``, the deadlines in
``portal.cases.deadlines``; both work on the ``StageEvent`` values made here.

Every event carries ``occurred_at``: when it happened in the agency's procedure (it may be
earlier than when it was recorded, never later). Instants arrive as RFC 3339 with an offset
and are stored in UTC; dates (a hearing day, an extended last day, an instalment's due date)
are China dates from 2000 to ``LATEST_AHEAD`` after today (``out_of_range`` otherwise): a
date no procedure needs would only break every deadline counted from it.

An approved instalment plan (``instalments_approved``, APL art. 66) carries a ``schedule``:
2-12 instalments ``{"due_date": "YYYY-MM-DD", "amount_fen": n}``, dates strictly increasing,
amounts positive; each bad member is named by its path (``instalments[1].due_date``). That
the amounts add up to the decision's fine is an order rule (``portal.cases.rules``): it needs
the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal

from portal import catalogue, fields
from portal.errors import ValidationFailed
from portal.evidence_hash import instant_text
from portal.legal_calendar import china_date

# How far ahead of the portal's clock an agency's clock may run before an instant is refused
# as lying in the future.
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = fields.EARLIEST_INSTANT
FARTHEST_AHEAD = timedelta(days=10 * 366)
"""A date of a case (hearing, new last day, instalment) lies at most ten years ahead."""


class EventKind(StrEnum):
    REGISTERED = "registered"
    FILED = "filed"
    PENALTY_NOTICE = "penalty_notice"
    HEARING_SCHEDULED = "hearing_scheduled"
    DECIDED = "decided"
    RECONSIDERATION_STARTED = "reconsideration_started"
    RECONSIDERATION_ENDED = "reconsideration_ended"
    LAWSUIT_STARTED = "lawsuit_started"
    LAWSUIT_ENDED = "lawsuit_ended"
    WINDOW_EXTENDED = "window_extended"
    INSTALMENTS_APPROVED = "instalments_approved"
    CLOSED = "closed"


# ``registered`` is written by case registration itself, never sent by an agency.
AGENCY_KINDS = tuple(kind for kind in EventKind if kind is not EventKind.REGISTERED)
# Deadlines an agency may extend (APL art. 66 for payment); remedy periods are set by law.
EXTENDABLE_DEADLINES = ("statement", "hearing_request", "payment")
# Events that change a period, not the stage: the case's stage and public milestones skip them.
PERIOD_EVENTS = (EventKind.WINDOW_EXTENDED, EventKind.INSTALMENTS_APPROVED)
MIN_INSTALMENTS = 2
MAX_INSTALMENTS = 12

FieldType = Literal["text", "instant", "date", "time", "bool", "fen", "choice", "schedule",
                    "remedy_body", "court"]
# APL art. 59(6): the decision names where to seek a remedy. The reconsideration body is a
# people's government or the department above (Administrative Reconsideration Law art. 24-27),
# the lawsuit goes to a people's court (Administrative Procedure Law art. 18).
_REMEDY_BODY_ENDINGS = ("人民政府", "局", "厅", "署", "部", "委员会", "海关", "办公室")


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()


_OCCURRED = Field("occurred_at", "instant")
SPECS: dict[EventKind, tuple[Field, ...]] = {
    EventKind.FILED: (_OCCURRED,),
    EventKind.PENALTY_NOTICE: (
        _OCCURRED,
        Field("proposed_penalty", "text", required=True, max_length=500),
        Field("proposed_fine_fen", "fen"),
        Field("facts", "text", required=True, max_length=2000),
        Field("legal_basis", "text", required=True, max_length=1000),
        Field("informed_at", "instant"),
    ),
    EventKind.HEARING_SCHEDULED: (
        _OCCURRED,
        Field("hearing_date", "date", required=True),
        Field("hearing_time", "time"),
        Field("place", "text", required=True),
        Field("public", "bool", required=True),
        Field("not_public_reason", "text", max_length=500),
    ),
    EventKind.DECIDED: (
        _OCCURRED,
        Field("decision_number", "text", required=True, max_length=100),
        Field("penalty", "text", required=True, max_length=500),
        Field("fine_fen", "fen", required=True),
        Field("served_at", "instant"),
        Field("reconsideration_body", "remedy_body", max_length=100),
        Field("court", "court", max_length=100),
    ),
    EventKind.RECONSIDERATION_STARTED: (_OCCURRED, Field("body", "text")),
    EventKind.RECONSIDERATION_ENDED: (_OCCURRED, Field("outcome", "text", max_length=500)),
    EventKind.LAWSUIT_STARTED: (_OCCURRED, Field("court", "text")),
    EventKind.LAWSUIT_ENDED: (_OCCURRED, Field("outcome", "text", max_length=500)),
    EventKind.WINDOW_EXTENDED: (
        _OCCURRED,
        Field("deadline", "choice", required=True, choices=EXTENDABLE_DEADLINES),
        Field("new_last_day", "date", required=True),
        Field("reason", "text", required=True, max_length=500),
    ),
    EventKind.INSTALMENTS_APPROVED: (
        _OCCURRED,
        Field("instalments", "schedule", required=True),
        Field("reason", "text", required=True, max_length=500),
    ),
    EventKind.CLOSED: (_OCCURRED, Field("reason", "text", max_length=500)),
}
MAX_FEN = fields.MAX_FEN


def parse_event_data(kind: str, raw: Mapping[str, Any], now: datetime) -> tuple[EventKind, dict[str, Any]]:
    """The canonical payload for an agency's event, or ``ValidationFailed`` naming every bad
    field with a stable code. ``occurred_at`` defaults to ``now``."""
    try:
        event_kind = EventKind(kind)
    except ValueError:
        raise ValidationFailed({"kind": "unknown_kind"}) from None
    if event_kind not in AGENCY_KINDS:
        raise ValidationFailed({"kind": "unknown_kind"})
    specs = {field.name: field for field in SPECS[event_kind]}
    errors = {name: "unknown_field" for name in raw if name not in specs}
    payload: dict[str, Any] = {}
    for name, field in specs.items():
        value = raw.get(name)
        if value is None:
            if field.required:
                errors[name] = "required"
            continue
        try:
            payload[name] = _canonical(field, value, now)
        except fields.FieldError as bad:
            errors[name] = bad.code
        except _BadMembers as bad:
            errors.update({f"{name}{path}": code for path, code in bad.errors.items()})
    if event_kind is EventKind.HEARING_SCHEDULED and payload.get("public") is False \
            and not payload.get("not_public_reason"):
        errors["not_public_reason"] = "required"  # APL art. 64(5): public unless a reason
    if errors:
        raise ValidationFailed(errors)
    payload.setdefault("occurred_at", instant_text(now))
    return event_kind, payload


class _BadMembers(Exception):
    """Errors inside a structured value, keyed by the path below the field (``[1].due_date``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _canonical(field: Field, value: Any, now: datetime) -> Any:
    """The stored form of one field's value; ``FieldError`` with the ``portal.fields`` code."""
    if field.type == "schedule":
        return _schedule(value, now)
    if field.type in ("remedy_body", "court"):  # one line: a name, no control characters
        name = fields.text(value, limit=field.max_length)
        if field.type == "court" and not name.endswith("人民法院"):
            raise fields.FieldError("not_a_court")
        if field.type == "remedy_body" and not name.endswith(_REMEDY_BODY_ENDINGS):
            raise fields.FieldError("not_a_reconsideration_body")
        return name
    if field.type == "text":  # an agency's system may send line breaks in any of its texts
        return fields.text(value, limit=field.max_length, multiline=True)
    if field.type == "bool":
        if not isinstance(value, bool):
            raise fields.FieldError("invalid_type")
        return value
    if field.type == "fen":
        return fields.fen(value, maximum=MAX_FEN)
    if field.type == "choice":
        return fields.choice(value, field.choices)
    if field.type == "date":
        return _date(value, now).isoformat()
    if field.type == "time":
        return _time(value)
    return instant_text(fields.instant(value, earliest=EARLIEST, latest=now + CLOCK_SKEW,
                                       after_latest="in_future"))


_INSTALMENT_MEMBERS = ("due_date", "amount_fen")


def _schedule(value: Any, now: datetime) -> list[dict[str, Any]]:
    """The canonical instalments: ``[{"due_date": "YYYY-MM-DD", "amount_fen": n}, ...]``."""
    if not isinstance(value, list):
        raise fields.FieldError("invalid_type")
    if not MIN_INSTALMENTS <= len(value) <= MAX_INSTALMENTS:
        raise fields.FieldError("out_of_range")
    errors: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    previous: date | None = None
    for index, item in enumerate(value):
        where = f"[{index}]"
        if not isinstance(item, dict):
            errors[where] = "invalid_type"
            previous = None
            continue
        errors.update({f"{where}.{name}": "unknown_field" for name in item
                       if name not in _INSTALMENT_MEMBERS})
        due: date | None = None
        try:
            due = _date(item.get("due_date"), now)
            if previous is not None and due <= previous:
                raise fields.FieldError("not_increasing")
        except fields.FieldError as bad:
            errors[f"{where}.due_date"] = bad.code
        amount = item.get("amount_fen")
        try:
            fields.fen(amount, minimum=1, maximum=MAX_FEN)
        except fields.FieldError as bad:
            errors[f"{where}.amount_fen"] = bad.code
        previous = due
        items.append({"due_date": due.isoformat() if due else None, "amount_fen": amount})
    if errors:
        raise _BadMembers(errors)
    return items


def _time(value: object) -> str:
    if not isinstance(value, str):
        raise fields.FieldError("invalid_type")
    if len(value) != 5 or not value.isascii():
        raise fields.FieldError("invalid_time")
    try:
        return time.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        raise fields.FieldError("invalid_time") from None


def _date(value: object, now: datetime) -> date:
    """A date of a case: a hearing, a new last day, an instalment, at most ``FARTHEST_AHEAD``."""
    return fields.day(value, earliest=fields.EARLIEST_DATE,
                      latest=china_date(now) + FARTHEST_AHEAD)


@dataclass(frozen=True)
class StageEvent:
    """One event of a case as stored: ``at`` is when it happened, ``recorded_at`` when the
    portal recorded it (the evidence row's time), ``data`` its canonical payload."""

    seq: int
    kind: EventKind
    at: datetime
    recorded_at: datetime
    data: Mapping[str, Any]
    actor: str = ""

    @classmethod
    def from_payload(cls, seq: int, kind: str, recorded_at: datetime, data: Mapping[str, Any],
                     actor: str = "") -> StageEvent:
        at = datetime.fromisoformat(data["occurred_at"]) if "occurred_at" in data else recorded_at
        return cls(seq, EventKind(kind), at, recorded_at, data, actor)

    def instant(self, name: str) -> datetime | None:
        value = self.data.get(name)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    def day(self, name: str) -> date | None:
        value = self.data.get(name)
        return date.fromisoformat(value) if isinstance(value, str) else None

    def required_day(self, name: str) -> date:
        """A date the event's spec requires, so recording the event checked it is there."""
        value = self.day(name)
        if value is None:
            raise RuntimeError(f"a {self.kind.value} event without its {name}")
        return value

    def schedule(self, name: str) -> tuple[ScheduledInstalment, ...]:
        """The instalments of a ``schedule`` field, in order (empty when absent)."""
        return tuple(ScheduledInstalment(date.fromisoformat(item["due_date"]), int(item["amount_fen"]))
                     for item in self.data.get(name) or ())


@dataclass(frozen=True)
class ScheduledInstalment:
    """One instalment of an approved plan (APL art. 66): pay ``amount_fen`` by ``due_date``."""

    due_date: date
    amount_fen: int


def last(events: Iterable[StageEvent], kind: EventKind) -> StageEvent | None:
    found = None
    for event in events:
        if event.kind is kind:
            found = event
    return found


def current_stage(events: Sequence[StageEvent]) -> EventKind:
    """The stage a case is in: its latest event, a change of a period (an extension, an
    instalment plan) aside."""
    for event in reversed(events):
        if event.kind not in PERIOD_EVENTS:
            return event.kind
    return EventKind.REGISTERED


def stage_label(stage: EventKind) -> str:
    return catalogue.CASES[f"stage.{stage.value}"]


@dataclass(frozen=True)
class Detail:
    """One labelled value of a timeline entry; ``format`` tells a page how to show ``value``
    (``fen`` as yuan, ``date`` and ``instant`` in China time, ``instalment`` as its due date
    and amount, ``text`` as it is)."""

    label: str
    value: str | int | date | datetime | ScheduledInstalment
    format: Literal["text", "fen", "date", "instant", "instalment"] = "text"


@dataclass(frozen=True)
class TimelineEntry:
    """A moment in a case as the party reads it. ``source`` says which record it comes from
    (``case`` events now; deliveries, submissions and payments join the same list later)."""

    at: datetime
    kind: str
    label: str
    details: tuple[Detail, ...] = ()
    source: str = "case"


def timeline_entries(events: Iterable[StageEvent]) -> list[TimelineEntry]:
    return [TimelineEntry(event.at, event.kind.value, catalogue.CASES[f"event.{event.kind.value}"],
                          tuple(_details(event))) for event in events]


def _details(event: StageEvent) -> Iterable[Detail]:
    if event.kind is EventKind.REGISTERED:
        return
    for field in SPECS[event.kind]:
        value = event.data.get(field.name)
        if value is None or field.name == "occurred_at":
            continue
        label = catalogue.CASES[f"field.{field.name}"]
        if field.type == "fen":
            yield Detail(label, int(value), "fen")
        elif field.type == "instant":
            yield Detail(label, datetime.fromisoformat(value), "instant")
        elif field.type == "date":
            yield Detail(label, date.fromisoformat(value), "date")
        elif field.type == "bool":
            yield Detail(label, catalogue.CASES[f"value.{field.name}.{str(value).lower()}"])
        elif field.type == "choice":
            yield Detail(label, catalogue.CASES[f"deadline.{value}"])
        elif field.type == "schedule":
            for number, instalment in enumerate(event.schedule(field.name), start=1):
                yield Detail(catalogue.CASES["value.instalment"].format(n=number), instalment,
                             "instalment")
        else:
            yield Detail(label, str(value))


@dataclass(frozen=True)
class Milestone:
    label: str
    day: date


def public_milestones(events: Iterable[StageEvent]) -> tuple[Milestone, ...]:
    """The dates anyone may see (FJ art. 8, 29): when each stage was reached, nothing of what
    it said. A hearing's date shows only when the hearing is public (APL art. 64(5)). Changes
    of a period are not milestones: an instalment plan tells of the party's finances."""
    shown: list[Milestone] = []
    for event in events:
        if event.kind in PERIOD_EVENTS:
            continue
        shown.append(Milestone(catalogue.CASES[f"event.{event.kind.value}"], china_date(event.at)))
        hearing_day = event.day("hearing_date")
        if event.kind is EventKind.HEARING_SCHEDULED and event.data.get("public") and hearing_day:
            shown.append(Milestone(catalogue.CASES["field.hearing_date"], hearing_day))
    return tuple(sorted(shown, key=lambda milestone: milestone.day))
