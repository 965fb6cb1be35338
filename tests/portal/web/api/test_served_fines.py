"""A served decision's fine is payable where the party looks for it: lisi's company had a served
5,000-yuan decision with a payment deadline on its case page while 我的罚款 said there was nothing
to pay, because only ``POST /api/v1/fines`` made a fine payable. Now the service of the decision
does (``services.served_fines``), from the same service time the case page counts from; the
agency's own call answers that fine; nothing is ever doubled. Starts from the agency's real
calls; every API response is checked against the OpenAPI document; both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from portal.evidence_hash import instant_text
from portal.legal_calendar import HolidayCalendar, china_date, payment_deadline
from portal.models.parties import Party
from portal.models.payments import Fine
from portal.services.agencies import NewClient
from tests.builders import fine_world, sealed_pdf, sign_consent
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import NOTICE, OFFICERS
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import click_pay

DECISION = "榕市监罚〔2026〕87号"


def _ago(days: float) -> str:
    return instant_text(datetime.now(UTC) - timedelta(days=days))


async def _decided_case(api: httpx.AsyncClient, token: dict[str, str], party: dict[str, str], *,
                        served_days_ago: float | None, parties: list[dict[str, str]] | None = None,
                        fine_fen: int = 500_000) -> str:
    """A case of ``party`` decided through the API, served ``served_days_ago`` (None: not yet)."""
    created = await api.post("/api/v1/cases", headers=token, json={
        "agency_case_number": "榕市监处罚〔2026〕87号", "case_type": "行政处罚",
        "matter": "未按规定公示年度报告", "hearing_right": False, "electronic_monitoring": False,
        "parties": parties or [party], "officers": OFFICERS})
    assert created.status_code == 201, created.text
    events = f"/api/v1/cases/{created.json()['code']}/events"
    notice = {"kind": "penalty_notice", "data": {**NOTICE["data"], "occurred_at": _ago(40),
                                                 "informed_at": _ago(40)}}
    assert (await api.post(events, json=notice, headers=token)).status_code == 201
    data: dict[str, Any] = {"occurred_at": _ago(10), "decision_number": DECISION,
                            "penalty": "罚款人民币五千元", "fine_fen": fine_fen}
    if served_days_ago is not None:
        data["served_at"] = _ago(served_days_ago)
    decided = await api.post(events, headers=token, json={"kind": "decided", "data": data})
    assert decided.status_code == 201, decided.text
    return str(created.json()["code"])


async def _fines(database: Database) -> list[Fine]:
    async with database.sessions() as db:
        return list((await db.execute(select(Fine).order_by(Fine.id))).scalars())


async def test_a_company_decision_served_into_its_mailbox_is_payable_by_its_agent(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # FJ art. 19 (service is the arrival), APL art. 67 (15 days from service), FJ art. 20
    token = bearer(await fetch_token(api, agency_a))
    code = await _decided_case(api, token, COMPANY.api, served_days_ago=None)
    assert await _fines(database) == []  # decided, not yet served: nothing to pay yet
    async with database.sessions() as db:
        company = (await db.execute(select(Party).where(
            Party.credit_code == COMPANY.credit_code))).scalar_one()
    await sign_consent(database, company.id)
    meta = {"document_type": "行政处罚决定书", "title": f"{DECISION} 行政处罚决定书",
            "party": {"credit_code": COMPANY.credit_code}}
    document = await sealed_pdf(data_dir, agency_a.agency_name)
    served = await api.post(f"/api/v1/cases/{code}/deliveries", headers=token, files={
        "document": ("decision.pdf", document, "application/pdf"),
        "metadata": (None, json.dumps(meta, ensure_ascii=False), "application/json")})
    assert served.status_code == 201, served.text

    [fine] = await _fines(database)
    arrived = datetime.fromisoformat(served.json()["service_time"].replace("Z", "+00:00"))
    assert fine.party_id == company.id and fine.amount_fen == 500_000 and fine.decision_number == DECISION
    assert fine.served_at == arrived  # the arrival in the mailbox is the service (FJ art. 19)
    assert fine.due_date == payment_deadline(arrived, HolidayCalendar.standard()).last_day

    await log_in(api, "lisi")  # acting for the company: its agent
    listing = (await api.get("/fines")).text
    assert DECISION in listing and "5,000.00" in listing and "没有需要在本平台缴纳的罚款" not in listing
    todo = (await api.get("/todo")).text
    assert "缴纳罚款 5,000.00 元" in todo and f"/fines/{fine.public_id}" in todo
    case_page = (await api.get(f"/cases/{code}")).text
    assert f"/fines/{fine.public_id}" in case_page  # the case page's deadline leads to the payment
    # why the statement right is gone, in the words of the party, not the agency's API
    assert "执法机关已经作出处罚决定" in case_page and "不能再记录决定前的环节" not in case_page
    paying = await click_pay(api, fine.public_id)
    assert paying.status_code == 303 and "/sandbox-pay/" in paying.headers["location"]


async def test_a_decision_the_agency_served_itself_is_payable_from_that_service(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 67: due 15 days from the agency's stated service; the agency's own call answers it
    token = bearer(await fetch_token(api, agency_a))
    code = await _decided_case(api, token, ZHANGSAN.api, served_days_ago=3)
    [fine] = await _fines(database)
    served_on = china_date(datetime.now(UTC) - timedelta(days=3))
    assert fine.served_on == served_on and fine.served_at is None
    assert fine.due_date == payment_deadline(served_on, HolidayCalendar.standard()).last_day
    case = (await api.get(f"/api/v1/cases/{code}", headers=token)).json()
    payment = next(d for d in case["deadlines"] if d["kind"] == "payment")
    assert payment["last_day"] == fine.due_date.isoformat()  # one date, wherever it is read

    body = {"decision_number": DECISION, "amount_fen": 500_000, "surcharge_applies": True,
            "collecting_account": "福建省财政厅非税收入汇缴结算户", "case_code": code,
            "served_on": served_on.isoformat(), "party": {"id_number": ZHANGSAN.id_number}}
    again = await api.post("/api/v1/fines", json=body, headers=token)
    assert again.status_code == 200 and again.json()["fine_id"] == fine.public_id
    other = await api.post("/api/v1/fines", json={**body, "amount_fen": 400_000}, headers=token)
    assert other.status_code == 409 and other.json()["code"] == "fine_exists"
    assert len(await _fines(database)) == 1


async def test_nothing_is_doubled_and_several_parties_are_left_to_the_agency(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # nothing of legal effect is filed twice: the agency's own fine (under whatever number it
    # gave) stands alone; a decision naming several parties does not say whose amount is whose
    token = bearer(await fetch_token(api, agency_a))
    own = await fine_world(database, served_days_ago=2, number="榕市监罚〔2026〕7号")
    events = f"/api/v1/cases/{own.world.case_code}/events"
    notice = {"kind": "penalty_notice", "data": {**NOTICE["data"], "occurred_at": _ago(40),
                                                 "informed_at": _ago(40)}}
    assert (await api.post(events, json=notice, headers=token)).status_code == 201
    decided = await api.post(events, headers=token, json={"kind": "decided", "data": {
        "occurred_at": _ago(3), "served_at": _ago(2), "decision_number": DECISION,
        "penalty": "罚款", "fine_fen": 100_000}})
    assert decided.status_code == 201, decided.text
    assert [fine.public_id for fine in await _fines(database)] == [own.fine_id]

    await _decided_case(api, token, ZHANGSAN.api, served_days_ago=2, parties=[ZHANGSAN.api, COMPANY.api])
    async with database.sessions() as db:
        assert (await db.execute(select(func.count()).select_from(Fine))).scalar_one() == 1
