"""Bodies and steps of the agency API shared by its test modules: a case to register, a notice, a plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from portal.evidence_hash import instant_text
from portal.workers.submissions import SubmissionDeps
from tests.builders import FINE_FEN, FineWorld, fine_world
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN
from tests.portal.web.api.conftest import bearer

Headers = dict[str, str]
OFFICERS = [{"name": "陈明", "credential_number": "35010020230017"},
            {"name": "林芳", "credential_number": "35010020230024"}]
NEW_CASE: dict[str, Any] = {
    "agency_case_number": "榕市监处罚〔2026〕1号", "case_type": "行政处罚",
    "matter": "销售超过保质期的食品", "hearing_right": True, "electronic_monitoring": False,
    "parties": [ZHANGSAN.api, COMPANY.api], "officers": OFFICERS,
}
NOTICE: dict[str, Any] = {"kind": "penalty_notice", "data": {
    "proposed_penalty": "罚款人民币一万元", "proposed_fine_fen": 1_000_000,
    "facts": "销售超过保质期的酸奶", "legal_basis": "《中华人民共和国食品安全法》第一百二十四条"}}


def deps(app: Starlette, database: Database) -> SubmissionDeps:
    return SubmissionDeps(database.sessions, app.state.notary, app.state.blobs,
                          app.state.settings.secret_key, development=True)


async def register(api: httpx.AsyncClient, token: str, body: dict[str, Any] | None = None
                   ) -> httpx.Response:
    return await api.post("/api/v1/cases", json=NEW_CASE if body is None else body,
                          headers=bearer(token))


def instalment_plan(*items: tuple[date, int], reason: str = "当事人经济困难，申请分期缴纳") -> dict[str, Any]:
    return {"kind": "instalments_approved", "data": {
        "reason": reason,
        "instalments": [{"due_date": day.isoformat(), "amount_fen": amount} for day, amount in items]}}


async def decided_fine(database: Database, api: httpx.AsyncClient, token: Headers, *,
                       served_days_ago: int = 3) -> tuple[FineWorld, str]:
    """张三's fine, and its case decided through the API with the same fine: (fine, events URL)."""
    fw = await fine_world(database, served_days_ago=served_days_ago)
    events = f"/api/v1/cases/{fw.world.case_code}/events"
    await decide(api, token, events, served_days_ago)
    return fw, events


async def decide(api: httpx.AsyncClient, token: Headers, events: str, served_days_ago: int) -> None:
    notice = {"kind": "penalty_notice", "data": {**NOTICE["data"], "occurred_at": days_ago(60),
                                                 "informed_at": days_ago(60)}}
    assert (await api.post(events, json=notice, headers=token)).status_code == 201
    decided = await api.post(events, headers=token, json={"kind": "decided", "data": {
        "occurred_at": days_ago(served_days_ago + 1), "served_at": days_ago(served_days_ago),
        "decision_number": "榕市监罚〔2026〕7号", "penalty": "罚款", "fine_fen": FINE_FEN}})
    assert decided.status_code == 201, decided.text


def days_ago(days: float) -> str:
    return instant_text(datetime.now(UTC) - timedelta(days=days))
