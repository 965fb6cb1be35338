"""Every agency endpoint that takes text refuses the same characters with the same code
(``portal.fields``): NUL (PostgreSQL cannot store it), BEL and the other controls, and
RIGHT-TO-LEFT OVERRIDE (it reorders what a reader sees). The case API used to store all three
while the publicity API refused them. Nothing is stored from a refused request."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from portal.models.cases import Case
from portal.models.publicity import Publication
from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import bearer, fetch_token

BAD = ("\x00", "\x07", "\u202e")
CASE: dict[str, Any] = {
    "agency_case_number": "榕市监处罚〔2026〕7号", "case_type": "行政处罚", "matter": "销售超过保质期的食品",
    "hearing_right": True, "electronic_monitoring": False, "parties": [ZHANGSAN.api],
    "officers": [{"name": "陈明", "credential_number": "35010020230017"},
                 {"name": "林芳", "credential_number": "35010020230024"}],
}
PUBLICATION = {"kind": "penalty_decision", "agency_case_number": "榕市监罚〔2026〕907号",
               "party": {"kind": "person", "name": "张三"}, "violation": "销售过期食品",
               "legal_basis": "《食品安全法》第一百二十四条", "result": "罚款人民币五千元",
               "amount_fen": 500000, "decision_date": "2026-01-20", "region_code": "350100"}


async def _count(database: Database, model: Any) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_each_endpoint_refuses_controls_and_bidi_overrides_alike(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    token = bearer(await fetch_token(api, agency_a))
    code = (await api.post("/api/v1/cases", json=CASE, headers=token)).json()["code"]
    for bad in BAD:
        attempts = {
            "matter": await api.post("/api/v1/cases", headers=token, json={
                **CASE, "agency_case_number": "另一个案号", "matter": f"销售{bad}过期食品"}),
            "parties[0].name": await api.post("/api/v1/cases", headers=token, json={
                **CASE, "agency_case_number": "又一个案号",
                "parties": [{**ZHANGSAN.api, "name": f"张{bad}三"}]}),
            "facts": await api.post(f"/api/v1/cases/{code}/events", headers=token, json={
                "kind": "penalty_notice", "data": {"proposed_penalty": "罚款", "facts": f"事实{bad}",
                                                   "legal_basis": "第一百二十四条"}}),
            "violation": await api.post("/api/v1/publications", headers=token,
                                        json={**PUBLICATION, "violation": f"销售{bad}过期食品"}),
            "decision_number": await api.post("/api/v1/fines", headers=token, json={
                "decision_number": f"榕{bad}罚", "amount_fen": 100, "collecting_account": "财政专户",
                "served_on": "2026-01-20", "case_code": code, "party": {"id_number": ZHANGSAN.id_number}}),
            "title": await api.post(f"/api/v1/cases/{code}/deliveries", headers=token, files={
                "document": ("d.pdf", b"%PDF-1.7\n", "application/pdf"),
                "metadata": (None, json.dumps({"document_type": "行政处罚决定书", "title": f"决定书{bad}",
                                               "party": {"id_number": ZHANGSAN.id_number}}),
                             "application/json")}),
        }
        for field, answer in attempts.items():
            assert answer.status_code == 422, (field, answer.text)
            assert answer.json()["errors"][field] == "invalid_character", (field, answer.json())
        hook = await api.put("/api/v1/webhook", headers=token,
                             json={"url": f"https://agency.example/hook{bad}"})
        assert hook.status_code == 422 and hook.json()["code"] == "webhook_url_invalid"
    assert await _count(database, Case) == 1 and await _count(database, Publication) == 0
    case = (await api.get(f"/api/v1/cases/{code}", headers=token)).json()
    assert [event["kind"] for event in case["events"]] == ["registered"]
