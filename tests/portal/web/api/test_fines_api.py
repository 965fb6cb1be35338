"""The fines API: a served decision's fine with its due date from the legal calendar,
the amount due today, payments (double payments flagged for refund), refunds with red-letter
reversal receipts, and the agency's reconciliation result; another agency's fine is 404."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from portal.blobstore.files import FileBlobStore
from portal.database import transaction
from portal.legal_calendar import HolidayCalendar, payment_deadline
from portal.models.cases import Case
from portal.models.parties import Party
from portal.services import deliveries, reconciliations
from portal.services.agencies import NewClient
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from tests.builders import RENDERER, case_world, fine_world, sign_consent, today
from tests.conftest import Database, csrf_from
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)


def _body(case_code: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "decision_number": "榕市监罚〔2026〕21号", "amount_fen": 250_000,
        "collecting_account": "福建省财政厅非税收入汇缴结算户", "surcharge_applies": True,
        "served_on": (today() - timedelta(days=2)).isoformat(), "case_code": case_code,
        "party": {"id_number": ZHANGSAN.id_number}}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def test_fine_for_a_stated_service_date_gets_its_due_date_from_the_legal_calendar(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 67 (15 days from service), art. 85 and Civil Procedure Law art. 85 (rest-day rule)
    w = await case_world(database)
    token = bearer(await fetch_token(api, agency_a))
    created = await api.post("/api/v1/fines", json=_body(w.case_code), headers=token)
    assert created.status_code == 201, created.text
    fine = created.json()
    expected = payment_deadline(today() - timedelta(days=2), HolidayCalendar.standard())
    assert fine["due_date"] == expected.last_day.isoformat()
    assert "15日（自然日）" in fine["due_explanation"]
    assert fine["state"] == "unpaid" and fine["amount_due_today_fen"] == 250_000
    assert re.fullmatch(r"\d{20}", fine["payment_code"]) and fine["service"]["source"] == "stated"
    again = await api.post("/api/v1/fines", json=_body(w.case_code), headers=token)
    assert again.status_code == 200 and again.json()["fine_id"] == fine["fine_id"]
    other = await api.post("/api/v1/fines", json=_body(w.case_code, amount_fen=1), headers=token)
    assert other.status_code == 409 and other.json()["code"] == "fine_exists"
    future = _body(w.case_code, decision_number="X-1", served_on=(today() + timedelta(days=1)).isoformat())
    assert (await api.post("/api/v1/fines", json=future, headers=token)).json()["code"] == "service_in_future"
    bad = await api.post("/api/v1/fines", json={"amount_fen": 1.5}, headers=token)
    assert bad.status_code == 422 and bad.json()["errors"]["amount_fen"] == "invalid_type"


async def test_fine_for_a_decision_served_through_the_portal_runs_from_its_arrival(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, settings: Settings) -> None:
    # FJ art. 19, GD art. 30: the service time is the arrival in the mailbox; SECURITY.md 2.3.1
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    blobs = FileBlobStore(settings.data_dir / "blobs")
    served = {}
    for kind in ("行政处罚决定书", "行政处罚事先告知书"):
        async with transaction(database.sessions) as db:
            case, party = await db.get(Case, w.case_id), await db.get(Party, w.party_id)
            assert case and party
            served[kind] = await deliveries.deliver(
                db, blobs, case=case, party=party, fingerprint=kind.encode().hex()[:64],
                request=deliveries.DeliveryRequest(kind, f"{kind} 1", b"%PDF-1.7 x", None),
                actor="agency:1", renderer=RENDERER)
    token = bearer(await fetch_token(api, agency_a))
    decision = served["行政处罚决定书"]
    body = _body(None, served_on=None, party=None, delivery_id=decision.public_id)  # type: ignore[arg-type]
    created = await api.post("/api/v1/fines", json=body, headers=token)
    assert created.status_code == 201, created.text
    fine = created.json()
    assert fine["service"] == {"source": "delivery", "delivery_id": decision.public_id,
                               "served_at": decision.arrived_at.isoformat(),
                               "served_on": fine["service"]["served_on"]}
    expected = payment_deadline(decision.arrived_at, HolidayCalendar.standard())
    assert fine["due_date"] == expected.last_day.isoformat()
    notice = _body(None, served_on=None, party=None, decision_number="N-2",  # type: ignore[arg-type]
                   delivery_id=served["行政处罚事先告知书"].public_id)
    assert (await api.post("/api/v1/fines", json=notice, headers=token)).json()["code"] == "not_a_decision"
    unknown = _body(None, served_on=None, party=None, decision_number="N-3",  # type: ignore[arg-type]
                    delivery_id="f" * 32)
    assert (await api.post("/api/v1/fines", json=unknown, headers=token)).json()["code"] == "unknown_delivery"


async def test_amount_due_today_includes_the_exact_surcharge_when_late(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 72(1): 3% of the fine per day after the due date, never more than the fine
    fw = await fine_world(database, served_days_ago=35, amount_fen=123_457)
    token = bearer(await fetch_token(api, agency_a))
    fine = (await api.get(f"/api/v1/fines/{fw.fine_id}", headers=token)).json()
    days = (today() - datetime.fromisoformat(fine["due_date"]).date()).days
    assert days >= 15
    surcharge = min(123_457, 123_457 * 3 * days // 100)
    assert fine["state"] == "overdue" and fine["surcharge_days"] == days
    assert fine["surcharge_today_fen"] == surcharge
    assert fine["amount_due_today_fen"] == 123_457 + surcharge
    assert "24:00（北京时间）" in fine["quote_explanation"]
    capped = await fine_world(database, served_days_ago=90, number="N-90", the_world=fw.world)
    assert (await api.get(f"/api/v1/fines/{capped.fine_id}", headers=token)).json()[
        "amount_due_today_fen"] == 2 * 100_000  # never above twice the fine


async def test_another_agencys_fine_is_not_found(
        database: Database, api: httpx.AsyncClient, agency_b: NewClient) -> None:
    # SECURITY.md 8.4.1
    fw = await fine_world(database)
    token = bearer(await fetch_token(api, agency_b))
    assert (await api.get(f"/api/v1/fines/{fw.fine_id}", headers=token)).status_code == 404
    refund = {"platform_serial": "x", "refund_serial": "y", "reason": "z"}
    assert (await api.post(f"/api/v1/fines/{fw.fine_id}/refunds", json=refund,
                           headers=token)).status_code == 404


async def test_double_payment_is_flagged_for_refund_seen_by_both_and_refunds_reverse_receipts(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # a double payment: recorded, flagged, visible to party and agency; a refund of a
    # receipted payment produces a red-letter reversal (红冲) referencing the original
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    for serial in ("SB-FIRST-1", "SB-SECOND-2"):
        body = notice_body(order, fw.payment_code, serial=serial)
        assert (await post_callback(api, body, signed(settings, body))).json() == {"code": "SUCCESS"}
    token = bearer(await fetch_token(api, agency_a))
    fine = (await api.get(f"/api/v1/fines/{fw.fine_id}", headers=token)).json()
    assert fine["state"] == "paid" and fine["refund_flags"] == 1
    assert [(p["platform_serial"], p["status"]) for p in fine["payments"]] == [
        ("SB-FIRST-1", "applied"), ("SB-SECOND-2", "refund_required")]
    await log_in(api, "zhangsan")
    page = (await api.get(f"/fines/{fw.fine_id}")).text
    assert "重复缴款，待退款" in page and "SB-SECOND-2" in page

    deps = payment_deps(app, database, notary=StubSeal())
    assert await payment_jobs.JOBS.drain(deps) == 1
    refund = {"platform_serial": "SB-SECOND-2", "refund_serial": "RF-1", "reason": "重复缴款"}
    after = await api.post(f"/api/v1/fines/{fw.fine_id}/refunds", json=refund, headers=token)
    assert after.status_code == 200 and after.json()["refund_flags"] == 0
    assert after.json()["payments"][1]["status"] == "refunded"
    assert await payment_jobs.JOBS.drain(deps) == 0  # no receipt was issued for it: nothing to reverse
    assert len(after.json()["receipts"]) == 1

    revoked = {"platform_serial": "SB-FIRST-1", "refund_serial": "RF-2", "reason": "处罚决定被撤销"}
    closed = (await api.post(f"/api/v1/fines/{fw.fine_id}/refunds", json=revoked, headers=token)).json()
    assert closed["state"] == "refunded"
    await payment_jobs.JOBS.drain(deps)
    receipts = (await api.get(f"/api/v1/fines/{fw.fine_id}", headers=token)).json()["receipts"]
    normal, reversal = receipts
    assert reversal["kind"] == "reversal" and reversal["total_fen"] == -normal["total_fen"]
    assert reversal["original"] == {"code": normal["code"], "number": normal["number"]}
    assert normal["reversed_by"] == {"code": reversal["code"], "number": reversal["number"]}
    assert int(reversal["number"]) == int(normal["number"]) + 1  # same counter, no gap
    verify = await api.get(normal["verify_url"].removeprefix(settings.public_url))
    assert "已被红字冲销" in verify.text


async def test_reconciliation_result_is_readable_by_the_agency(
        database: Database, app: Starlette, api: httpx.AsyncClient, agency_a: NewClient,
        settings: Settings) -> None:
    # reconciliation: payments missing on either side are reported
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    sandbox = app.state.payments.sandbox
    await log_in(api, "zhangsan")  # the payer: the sandbox's pay page is theirs alone
    pay_page = f"/sandbox-pay/pay/{order.platform_order_id}"
    paid = await api.post(pay_page, data={"action": "pay", "csrf_token": await csrf_from(api, pay_page)})
    assert paid.status_code == 303
    await sandbox.drain()
    forged = await fine_world(database, number="N-forged", the_world=fw.world)
    forged_order = await place_order(app, database, forged)
    body = notice_body(forged_order, forged.payment_code, serial="SB-NOT-ON-STATEMENT")
    await post_callback(api, body, signed(settings, body))  # recorded, but the platform never took it
    day = today()
    token = bearer(await fetch_token(api, agency_a))
    assert (await api.get(f"/api/v1/reconciliations/{day}", headers=token)).json()["code"] == \
        "reconciliation_not_found"
    row = await reconciliations.reconcile_day(database.sessions, app.state.payments.active, day)
    assert not row.clean and row.matched == 1
    result = (await api.get(f"/api/v1/reconciliations/{day}", headers=token)).json()
    [platform] = result["platforms"]
    assert platform["clean"] is False and platform["matched"] == 1
    assert [x["platform_serial"] for x in platform["missing_on_platform"]] == ["SB-NOT-ON-STATEMENT"]
    assert platform["missing_in_portal"] == []
