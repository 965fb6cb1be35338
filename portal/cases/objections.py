"""Objections to data (数据异议 / 纠错), as values: what an objection is about, and the agency's
answer (LAW.md "Publicity and privacy"; GD art. 49; FJ art. 15; PIPL art. 46).

A party, or a person a published item names, says that what the portal records or publishes
about them is wrong and what it should say. Three subjects, one per place the data is shown:

- the **case** (its page: parties, matter, officers, the stages the agency recorded);
- a **document** served in the case (a mailbox item), named by its delivery;
- a **published item** (its public page), named by the item and the version the person read:
  a correction is a new version, so the answer can say which one corrected it.

The text and the correction are the party's own words (``rights.parse_form``); the subject is
not typed, it is where the form was opened, and its content (``Subject.content``) joins the
submission's, so the receipt's and the event's hash cover what was objected to.

The agency answers once (``parse_answer``): ``corrected`` (更正), ``partly_corrected``
(部分更正) or ``unchanged`` (经核实无误，维持), always with its reasons, and for a published
item optionally the version that corrected it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from portal.errors import ValidationFailed

ANSWER_CHARS = 2000
_MAX_VERSION = 2**31 - 1


class SubjectKind(StrEnum):
    CASE = "case"
    DELIVERY = "delivery"
    PUBLICATION = "publication"


@dataclass(frozen=True)
class Subject:
    """What an objection is about. ``delivery`` is the document's public id; ``publication``
    the item's id and ``version`` the version shown when the form was opened."""

    kind: SubjectKind
    delivery: str | None = None
    document_title: str | None = None
    publication: int | None = None
    version: int | None = None

    def content(self) -> dict[str, Any]:
        """The subject as the submission's content records it (and its hash covers)."""
        if self.kind is SubjectKind.DELIVERY:
            return {"kind": self.kind.value, "delivery": self.delivery, "title": self.document_title}
        if self.kind is SubjectKind.PUBLICATION:
            return {"kind": self.kind.value, "publication": self.publication, "version": self.version}
        return {"kind": self.kind.value}


class Outcome(StrEnum):
    CORRECTED = "corrected"
    PARTLY_CORRECTED = "partly_corrected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    text: str
    corrected_version: int | None = None

    def content(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "text": self.text,
                "corrected_version": self.corrected_version}


def parse_answer(body: object) -> Answer:
    """The agency's answer from its JSON body, or ``ValidationFailed`` naming each bad member."""
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "invalid_type"})
    errors = {name: "unknown_field" for name in body
              if name not in ("outcome", "text", "corrected_version")}
    outcome = body.get("outcome")
    if outcome not in {o.value for o in Outcome}:
        errors["outcome"] = "required" if outcome is None else "invalid_choice"
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "required"
    elif len(text) > ANSWER_CHARS:
        errors["text"] = "too_long"
    elif any(unicodedata.category(c).startswith("C") and c not in "\n\t" for c in text):
        errors["text"] = "control_characters"
    version = body.get("corrected_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)
                                or not 1 <= version <= _MAX_VERSION):
        errors["corrected_version"] = "invalid_type"
    if errors or not isinstance(text, str) or not isinstance(outcome, str):
        raise ValidationFailed(errors)
    return Answer(Outcome(outcome), text.strip(), version)
