"""The Chinese explanation that comes with every quote (`payments.amount_due.Quote`).

The party must be told the surcharge rule (APL art. 72(1)) and how today's amount was
reached: from which day the surcharge counts, for how many days, that it never exceeds the
fine, which reconsideration or lawsuit periods were left out (APL art. 73 para. 3), and that
the amount is valid until 24:00 China time of the quote's date. The sentences themselves live
in `payments.catalogue`; this module only decides which apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from payments.catalogue import QUOTE, SUSPENSION_KIND, chinese_date
from payments.money import format_yuan

if TYPE_CHECKING:  # amount_due imports this module; the types are only for the checker
    from payments.amount_due import Deferral, Fine, InstalmentPlan, QuoteLine, Suspension

__all__ = ["explain_quote"]


def _line(line: QuoteLine, on: date, fine: Fine, suspensions: Sequence[Suspension]) -> str:
    if line.due_fen == 0:
        return QUOTE["settled_line"]
    if not fine.surcharge_applies:
        return QUOTE["no_surcharge"]
    if on <= line.due_date:
        return QUOTE["not_due"].format(due=chinese_date(line.due_date))
    parts = [
        QUOTE["accruing"].format(start=chinese_date(line.surcharge_from), days=line.surcharge_days)
        + (QUOTE["capped"] if line.capped else "")
    ]
    for s in sorted(suspensions, key=lambda s: s.start):
        if s.start > on or (s.end is not None and s.end <= line.due_date):
            continue
        kind = SUSPENSION_KIND[s.kind.value]
        if s.end is None:
            parts.append(QUOTE["suspended_open"].format(kind=kind, start=chinese_date(s.start)))
        else:
            parts.append(
                QUOTE["suspended_closed"].format(
                    kind=kind, start=chinese_date(s.start), end=chinese_date(s.end)
                )
            )
    return "；".join(parts) + "。"


def explain_quote(
    quote_lines: Sequence[QuoteLine],
    on: date,
    fine: Fine,
    suspensions: Sequence[Suspension],
    deferral: Deferral | None,
    plan: InstalmentPlan | None,
) -> str:
    """The quote's explanation: deferral, each line's surcharge rule and days, validity, basis."""
    text = QUOTE["deferred"].format(due=chinese_date(deferral.due_date)) if deferral else ""
    for line in quote_lines:
        if plan is not None:
            text += QUOTE["instalment"].format(
                n=line.number, due=chinese_date(line.due_date), amount=format_yuan(line.principal_fen)
            )
        text += _line(line, on, fine, suspensions)
    text += QUOTE["valid_until"].format(on=chinese_date(on))
    if fine.surcharge_applies:
        text += QUOTE["legal_basis"]
    return text
