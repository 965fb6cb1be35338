"""A party's rights in a case, as values: which acts exist, what each must say, and when each
may be done (LAW.md, "Rights before a decision").

- **statement and defence** (陈述、申辩, APL art. 44, 45): text and evidence, while the
  statement window runs; the agency must hear it and may not make the penalty heavier for it;
- **hearing request** (听证申请, art. 63, 64(1), 85): only where the case carries the hearing
  right, once per prior notice, within 5 working days of being informed;
- **recusal request** (回避申请, art. 43, 64(4)): naming an officer of the case or the hearing
  officer, and why; any time before the decision;
- **deferred or instalment payment** (暂缓或分期缴纳, art. 66): after a decision with a fine,
  for financial hardship, with a proposed plan;
- **waiver** (放弃陈述、申辩, art. 62): express, while the window runs; afterwards the agency need
  not wait for the window (``cases.rules.PartyStanding.waived``), and the party can no longer
  state or request a hearing against this prior notice;
- **objection to data** (数据异议, GD art. 49; FJ art. 15; PIPL art. 46): what the portal records
  or publishes is wrong, and what it should say; at any time, closed cases included (data
  stays wrong after a case ends); about the case, a document served or a published item
  (``portal.cases.objections``).

``parse_form`` turns a form's fields into the canonical content stored with the submission, or
raises ``ValidationFailed`` with a stable code per field. ``refusal`` answers whether the act
may be done now and, if not, why (with the deadline that ran out, so the page can show it).
Windows are the party's own (``cases.deadlines.PartyTimes``) and belong to the current prior
notice: a renewed notice starts new ones, and what was filed against an older one no longer
counts. Plain functions on values; the service layer supplies the case's events and the
party's deadlines, taken under the case's lock, and the instant of the act.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from portal import fields as inbound
from portal.cases.deadlines import CaseDeadline, DeadlineKind, find
from portal.cases.events import MAX_INSTALMENTS, MIN_INSTALMENTS, EventKind, StageEvent, last
from portal.errors import ValidationFailed


class SubmissionKind(StrEnum):
    STATEMENT = "statement"
    HEARING_REQUEST = "hearing_request"
    RECUSAL = "recusal"
    PAYMENT_PLAN = "payment_plan"
    WAIVER = "waiver"
    OBJECTION = "objection"


TAKES_ATTACHMENTS = frozenset({SubmissionKind.STATEMENT, SubmissionKind.PAYMENT_PLAN,
                               SubmissionKind.OBJECTION})
"""The acts that may carry evidence (a statement's proof; proof of financial hardship; proof
that the data is wrong)."""
BEFORE_DECISION = frozenset({SubmissionKind.STATEMENT, SubmissionKind.HEARING_REQUEST,
                             SubmissionKind.WAIVER})
"""The acts that answer the current prior notice (``Submission.notice_seq`` records which)."""

STATEMENT_CHARS = 5000
REASON_CHARS = 2000
NAME_CHARS = 50
LONGEST_DEFERRAL = timedelta(days=366)
HEARING_OFFICER = "hearing_officer"


@dataclass(frozen=True)
class Officer:
    """An officer of the case a recusal may name."""

    id: int
    name: str
    credential_number: str


def _text(fields: Mapping[str, str], name: str, limit: int, errors: dict[str, str], *,
          required: bool) -> str:
    """The field's text, read by ``portal.fields`` (trimmed, line ends as ``\\n``; no control
    characters but line breaks and tabs, no bidi overrides: they would hide or reorder text in
    the receipt or the agency's system)."""
    try:
        return inbound.text(fields.get(name), limit=limit, multiline=True)
    except inbound.FieldError as refused:
        if required or refused.code != "required":
            errors[name] = refused.code
        return ""


def parse_form(kind: SubmissionKind, fields: Mapping[str, str], *, officers: Sequence[Officer],
               hearing_right: bool, today: date) -> dict[str, Any]:
    """The content of a submission of ``kind`` from its form fields (China date ``today``)."""
    errors: dict[str, str] = {}
    content: dict[str, Any]
    if kind is SubmissionKind.STATEMENT:
        content = {"text": _text(fields, "text", STATEMENT_CHARS, errors, required=True)}
    elif kind is SubmissionKind.HEARING_REQUEST:
        agents = [_text(fields, name, NAME_CHARS, errors, required=False)
                  for name in ("agent_1", "agent_2")]  # APL art. 64(3): one or two agents
        content = {"reason": _text(fields, "reason", REASON_CHARS, errors, required=False),
                   "agents": [agent for agent in agents if agent]}
    elif kind is SubmissionKind.RECUSAL:
        content = _recusal(fields, officers, errors)
    elif kind is SubmissionKind.PAYMENT_PLAN:
        content = _payment_plan(fields, today, errors)
    elif kind is SubmissionKind.OBJECTION:
        content = {"details": _text(fields, "details", STATEMENT_CHARS, errors, required=True),
                   "correction": _text(fields, "correction", REASON_CHARS, errors, required=False)}
    else:  # the waiver: the checkbox, and the second confirmation page (see pages.rights)
        for confirmation in ("confirm", "confirmed_again"):
            if fields.get(confirmation) != "yes":
                errors[confirmation] = "required"
        content = {"waived": ["statement", "hearing_request"] if hearing_right else ["statement"],
                   "confirmed": ["checkbox", "confirmation_page"]}
    if errors:
        raise ValidationFailed(errors)
    return content


def _recusal(fields: Mapping[str, str], officers: Sequence[Officer],
             errors: dict[str, str]) -> dict[str, Any]:
    target = fields.get("target", "")
    reason = _text(fields, "reason", REASON_CHARS, errors, required=True)
    if target == HEARING_OFFICER:
        name = _text(fields, "target_name", NAME_CHARS, errors, required=True)
        return {"target": HEARING_OFFICER, "name": name, "reason": reason}
    chosen = next((o for o in officers if target == f"officer:{o.id}"), None)
    if chosen is None:
        errors["target"] = "required"
        return {"target": "", "reason": reason}
    return {"target": "officer", "name": chosen.name, "credential_number": chosen.credential_number,
            "reason": reason}


def _payment_plan(fields: Mapping[str, str], today: date, errors: dict[str, str]) -> dict[str, Any]:
    reasons = _text(fields, "reasons", REASON_CHARS, errors, required=True)
    detail = _text(fields, "plan_detail", REASON_CHARS, errors, required=False)
    plan = fields.get("plan", "")
    content: dict[str, Any] = {"plan": plan, "reasons": reasons, "plan_detail": detail}
    if plan == "defer":
        try:
            until = inbound.day(fields.get("defer_until", "").strip(), earliest=today + timedelta(days=1),
                                latest=today + LONGEST_DEFERRAL)
        except inbound.FieldError as refused:
            errors["defer_until"] = refused.code
        else:
            content["defer_until"] = until.isoformat()
    elif plan == "instalments":
        raw = fields.get("instalments", "").strip()
        if not raw.isascii() or not raw.isdigit() or not MIN_INSTALMENTS <= int(raw) <= MAX_INSTALMENTS:
            errors["instalments"] = "out_of_range"
        else:
            content["instalments"] = int(raw)
    else:
        errors["plan"] = "required"
    return content


@dataclass(frozen=True)
class Refusal:
    """Why an act may not be done now; ``deadline`` is the window that ran out, if that is why."""

    code: str
    deadline: CaseDeadline | None = None


@dataclass(frozen=True)
class RightsState:
    """What the rules need to know about a case, for one party, at one moment."""

    hearing_right: bool
    notice: StageEvent | None
    decided: StageEvent | None
    closed: bool
    deadlines: tuple[CaseDeadline, ...]
    filed: frozenset[SubmissionKind]
    """What this party filed against the current prior notice."""

    @classmethod
    def of(cls, events: Sequence[StageEvent], deadlines: Sequence[CaseDeadline], *,
           hearing_right: bool, filed: frozenset[SubmissionKind]) -> RightsState:
        return cls(hearing_right, last(events, EventKind.PENALTY_NOTICE),
                   last(events, EventKind.DECIDED), last(events, EventKind.CLOSED) is not None,
                   tuple(deadlines), filed)

    @property
    def notice_seq(self) -> int | None:
        return self.notice.seq if self.notice else None

    @property
    def fine_fen(self) -> int:
        return int(self.decided.data.get("fine_fen", 0)) if self.decided else 0

    def window(self, kind: DeadlineKind) -> CaseDeadline | None:
        return find(self.deadlines, kind)


_WINDOW = {SubmissionKind.STATEMENT: DeadlineKind.STATEMENT,
           SubmissionKind.HEARING_REQUEST: DeadlineKind.HEARING_REQUEST,
           SubmissionKind.WAIVER: DeadlineKind.STATEMENT}
_CLOSED = {SubmissionKind.STATEMENT: "statement_window_closed",
           SubmissionKind.HEARING_REQUEST: "hearing_window_closed",
           SubmissionKind.WAIVER: "statement_window_closed"}


def governing_window(kind: SubmissionKind, state: RightsState) -> CaseDeadline | None:
    """The party's window the act must fall in, where one governs it."""
    window_kind = _WINDOW.get(kind)
    return state.window(window_kind) if window_kind else None


def refusal(kind: SubmissionKind, state: RightsState, now: datetime) -> Refusal | None:
    """None if the party may do ``kind`` at ``now``; otherwise why not."""
    if kind is SubmissionKind.OBJECTION:
        return None  # wrong data may be objected to at any stage, after closure too
    if state.closed:
        return Refusal("case_closed")
    if kind is SubmissionKind.PAYMENT_PLAN:
        if state.decided is None:
            return Refusal("decision_required")
        return None if state.fine_fen > 0 else Refusal("no_fine")
    if state.decided is not None:
        return Refusal("already_decided")
    if kind is SubmissionKind.RECUSAL:
        return None
    if kind is SubmissionKind.HEARING_REQUEST and not state.hearing_right:
        return Refusal("no_hearing_right")
    if state.notice is None:
        return Refusal("notice_required")
    window = governing_window(kind, state)
    if window is None:
        return Refusal("party_not_informed")
    if SubmissionKind.WAIVER in state.filed:
        return Refusal("rights_waived")
    if kind is not SubmissionKind.STATEMENT and SubmissionKind.HEARING_REQUEST in state.filed:
        return Refusal("hearing_already_requested")
    if not window.may_be_met_by(now):
        return Refusal(_CLOSED[kind], window)
    return None
