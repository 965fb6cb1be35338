"""Dates that would break a case forever: the API bounds every date it accepts, and
every read of a case survives a row stored before it did (LAW.md "Counting days")."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.models.cases import Case
from portal.services import cases, evidence
from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE, NOTICE, register
from tests.portal.web.login_flow import log_in


async def _notified_case(api: httpx.AsyncClient, token: str) -> str:
    code = (await register(api, token, {**NEW_CASE, "parties": [ZHANGSAN.api]})).json()["code"]
    informed = utcnow() - timedelta(days=1)
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": NOTICE["kind"], "data": {**NOTICE["data"], "informed_at": instant_text(informed),
                                          "occurred_at": instant_text(informed - timedelta(hours=1))}})
    assert answer.status_code == 201, answer.text
    return code


async def test_dates_beyond_any_procedure_are_refused_with_a_problem(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 64(2), 66: a hearing on 3 January of year 1 was a 500, a window extended to
    # 31 December 9999 was stored; both are 422 with the field named, as is a hearing
    # before the day it is notified and a fine served before 2000
    token = await fetch_token(api, agency_a)
    code = await _notified_case(api, token)
    url = f"/api/v1/cases/{code}/events"
    for body, field in (
        ({"kind": "hearing_scheduled", "data": {"hearing_date": "0001-01-03", "place": "听证室",
                                                "public": True}}, "hearing_date"),
        ({"kind": "window_extended", "data": {"deadline": "statement", "new_last_day": "9999-12-31",
                                              "reason": "延长"}}, "new_last_day"),
    ):
        answer = await api.post(url, headers=bearer(token), json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_failed"
        assert answer.json()["errors"] == {field: "out_of_range"}
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    answer = await api.post(url, headers=bearer(token), json={"kind": "hearing_scheduled", "data": {
        "hearing_date": yesterday, "place": "听证室", "public": True}})
    assert answer.status_code == 422 and answer.json()["code"] == "hearing_before_notice"
    fine = await api.post("/api/v1/fines", headers=bearer(token), json={
        "decision_number": "榕市监罚字〔2026〕1号", "amount_fen": 100_000,
        "collecting_account": "福建省财政厅非税收入汇缴结算户", "served_on": "0001-01-03",
        "case_code": code, "party": {"id_number": ZHANGSAN.id_number}})
    assert fine.status_code == 422 and fine.json()["errors"] == {"served_on": "out_of_range"}


async def test_every_read_of_a_case_survives_dates_stored_before_they_were_bounded(
        api: httpx.AsyncClient, agency_a: NewClient, database: Database) -> None:
    # rows written by earlier code, straight into the case's chain, with a hearing on
    # 0001-01-03 and a statement window extended to 9999-12-31. The API, the party's page and
    # the next event still work; what cannot be counted is named, the rest is shown
    token = await fetch_token(api, agency_a)
    code = await _notified_case(api, token)
    async with transaction(database.sessions) as db:
        case = (await db.execute(select(Case).where(Case.code == code))).scalar_one()
        for kind, data in (("hearing_scheduled", {"hearing_date": "0001-01-03", "place": "听证室",
                                                  "public": True}),
                           ("window_extended", {"deadline": "statement", "new_last_day": "9999-12-31",
                                                "reason": "延长"})):
            await evidence.append(db, chain=cases.chain_of(case), kind=kind, actor="agency:old",
                                  payload={"occurred_at": instant_text(utcnow()), **data})
    answer = await api.get(f"/api/v1/cases/{code}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"party": 0, "kind": "statement"} in body["unreadable_deadlines"]
    assert {"party": 0, "kind": "hearing_notice"} in body["unreadable_deadlines"]
    assert "hearing_request" in {d["kind"] for d in body["deadlines"]}
    await log_in(api, "zhangsan")
    page = await api.get(f"/cases/{code}")
    assert page.status_code == 200
    assert "以下期限暂无法计算：陈述、申辩期限" in page.text and "申请听证期限" in page.text
    now = utcnow()
    later = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": "penalty_notice", "data": {**NOTICE["data"], "occurred_at": instant_text(now),
                                            "informed_at": instant_text(now + timedelta(seconds=1))}})
    assert later.status_code == 201, later.text
