"""What the publicity tests publish: request bodies, and items published at a chosen instant."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

from portal.database import transaction
from portal.identifiers import uscc_check_char
from portal.legal_calendar import CHINA_TZ
from portal.publicity.ingest import submission_from_json
from portal.services import publications
from portal.services.calendar import load_calendar
from portal.services.publications import AgencyPublication
from tests.conftest import Database

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 China time


def credit_code(seed: int) -> str:
    body = f"9135010{seed:010d}"
    return body + uscc_check_char(body)


def body(case_number: str = "榕市监罚〔2026〕1号", *, company: str = "福州闽江贸易有限公司",
         decided: date | None = None, kind: str = "penalty_decision", region: str = "350100",
         **changes: Any) -> dict[str, Any]:
    """A publication body for an organisation (``changes`` replace members)."""
    result: dict[str, Any] = {
        "kind": kind, "agency_case_number": case_number,
        "party": {"kind": "organisation", "name": company, "credit_code": credit_code(len(company))},
        "violation": f"{company}销售超过保质期的酸奶12盒，货值金额人民币96元。",
        "legal_basis": "《中华人民共和国食品安全法》第三十四条第十项、第一百二十四条第一款第五项",
        "result": "没收超过保质期的酸奶12盒，并处罚款人民币五千元。",
        "amount_fen": 500_000, "decision_date": (decided or date(2026, 2, 27)).isoformat(),
        "region_code": region,
    }
    result.update(copy.deepcopy(changes))
    return result


def change_of(published: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The PUT body for ``published`` with ``changes``."""
    result = {k: v for k, v in published.items() if k not in ("kind", "agency_case_number")}
    result.update(changes)
    return result


async def publish(database: Database, agency_id: int, data: dict[str, Any], *,
                  at: datetime = T0) -> AgencyPublication:
    """Publish ``data`` as the agency would, at ``at``."""
    async with transaction(database.sessions) as db:
        return await publications.publish(db, agency_id, f"agency:{agency_id}/test",
                                          submission_from_json(data, new=True),
                                          await load_calendar(db), now=at)


def decided_days_before(at: datetime, days: int) -> date:
    return (at.astimezone(CHINA_TZ) - timedelta(days=days)).date()
