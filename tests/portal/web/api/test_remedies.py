"""Remedies shown with a decision (LAW.md; APL art. 59(6); Administrative Reconsideration Law
art. 20; Administrative Procedure Law art. 46): the agency names the reconsideration body and
the court, checked; the party sees them with each period's last day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from portal.database import utcnow
from portal.evidence_hash import instant_text
from portal.services.agencies import NewClient
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE, NOTICE, register
from tests.portal.web.login_flow import log_in

BODY, COURT = "福州市人民政府", "福州市鼓楼区人民法院"


async def _ready_for_decision(api: httpx.AsyncClient, token: str) -> str:
    code = (await register(api, token, {**NEW_CASE, "parties": [ZHANGSAN.api]})).json()["code"]
    informed = utcnow() - timedelta(days=20)
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token), json={
        "kind": NOTICE["kind"], "data": {**NOTICE["data"], "informed_at": instant_text(informed),
                                          "occurred_at": instant_text(informed - timedelta(hours=1))}})
    assert answer.status_code == 201, answer.text
    return code


def _decision(**remedies: str) -> dict[str, Any]:
    now = utcnow()
    return {"kind": "decided", "data": {
        "decision_number": "榕市监罚字〔2026〕66号", "penalty": "罚款人民币一万元", "fine_fen": 1_000_000,
        "occurred_at": instant_text(now - timedelta(hours=2)),
        "served_at": instant_text(now - timedelta(hours=1)), **remedies}}


async def test_decision_names_the_reconsideration_body_and_the_court(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 59(6): checked names; the API and the party's page show each with its period
    token = await fetch_token(api, agency_a)
    code = await _ready_for_decision(api, token)
    url = f"/api/v1/cases/{code}/events"
    bad = await api.post(url, headers=bearer(token), json=_decision(
        reconsideration_body="张三", court="福州市鼓楼区法院"))
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"reconsideration_body": "not_a_reconsideration_body",
                                    "court": "not_a_court"}
    good = await api.post(url, headers=bearer(token), json=_decision(reconsideration_body=BODY, court=COURT))
    assert good.status_code == 201 and good.json()["warnings"] == []
    case = (await api.get(f"/api/v1/cases/{code}", headers=bearer(token))).json()
    deadlines = {d["kind"]: d for d in case["deadlines"]}
    assert deadlines["reconsideration"]["venue"] == BODY and deadlines["lawsuit"]["venue"] == COURT
    assert "60日" in deadlines["reconsideration"]["explanation"]
    assert "6个月" in deadlines["lawsuit"]["explanation"]
    await log_in(api, "zhangsan")
    page = (await api.get(f"/cases/{code}")).text
    assert f"可以向<strong>{BODY}</strong>申请行政复议" in page
    assert f"可以向<strong>{COURT}</strong>提起行政诉讼" in page
    assert deadlines["reconsideration"]["last_day"] in page and deadlines["lawsuit"]["last_day"] in page


async def test_a_decision_without_them_is_recorded_with_a_warning(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 59(6): the periods still run and are shown; the agency is told what is missing
    token = await fetch_token(api, agency_a)
    code = await _ready_for_decision(api, token)
    answer = await api.post(f"/api/v1/cases/{code}/events", headers=bearer(token),
                            json=_decision(court=COURT))
    assert answer.status_code == 201
    assert [(w["code"], w["fields"]) for w in answer.json()["warnings"]] == [
        ("remedies_missing", ["reconsideration_body"])]
