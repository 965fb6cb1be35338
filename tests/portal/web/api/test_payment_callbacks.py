"""The payment platform's callbacks (SECURITY.md "Reliability battery"): signature, ±300 s,
nonce and notification id never seen, order and payment code known, amount equal to the amount
due on the payment date, the transition table; every refusal a security event that changes
nothing; answers that make the sandbox platform stop or retry."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.database import transaction
from portal.models.evidence import EvidenceEvent
from portal.models.outbox import OutboxMessage
from portal.models.payments import (
    OrderTransition,
    PaymentNonce,
    PaymentNotification,
    PaymentOrder,
    PaymentRecord,
    PaymentSecurityEvent,
)
from portal.models.receipts import FiscalReceipt
from portal.services import evidence, notification_preferences
from portal.settings import Settings
from portal.workers import payments as payment_jobs
from tests.builders import fine_world
from tests.conftest import Database
from tests.portal.web.pages.payment_factories import (
    StubSeal,
    notice_body,
    payment_deps,
    place_order,
    post_callback,
    signed,
)

STOP = {"code": "SUCCESS"}


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def _snapshot(database: Database) -> dict[str, object]:
    """Everything a refused callback must leave as it was."""
    async with database.sessions() as db:
        orders = [(o.public_id, o.state) for o in (await db.execute(select(PaymentOrder))).scalars()]
        applied = (await db.execute(select(func.count()).select_from(PaymentRecord)
                                    .where(PaymentRecord.applied.is_(True)))).scalar_one()
        transitions = (await db.execute(select(func.count()).select_from(OrderTransition))).scalar_one()
        paid_events = (await db.execute(select(func.count()).select_from(EvidenceEvent)
                                        .where(EvidenceEvent.kind == "order_paid"))).scalar_one()
    return {"orders": orders, "applied": applied, "transitions": transitions, "paid": paid_events,
            "receipts": await _count(database, FiscalReceipt)}


async def test_100_concurrent_duplicate_callbacks_give_one_paid_event_and_one_receipt(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # SECURITY.md reliability battery: 100 concurrent duplicate payment callbacks (and 20
    # replays later): one payment, one receipt; STYLE.md convention 8
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code, notification_id="N-dup-1", serial="SB-DUP-0001")
    answers = await asyncio.gather(*(post_callback(api, body, signed(settings, body)) for _ in range(100)))
    assert [a.status_code for a in answers] == [200] * 100
    assert all(a.json() == STOP for a in answers)  # every copy tells the platform to stop
    replay_headers = signed(settings, body)
    first = await post_callback(api, body, replay_headers)
    assert first.json() == STOP
    replays = [await post_callback(api, body, replay_headers) for _ in range(20)]
    assert {r.status_code for r in replays} == {409}  # the same signed request: refused
    async with database.sessions() as db:
        paid_events = (await db.execute(select(func.count()).select_from(EvidenceEvent).where(
            EvidenceEvent.kind == "order_paid"))).scalar_one()
        replayed = (await db.execute(select(func.count()).select_from(PaymentSecurityEvent).where(
            PaymentSecurityEvent.reason == "replayed"))).scalar_one()
    assert paid_events == 1 and replayed == 20
    assert await _count(database, PaymentRecord) == 1
    assert await _count(database, PaymentNotification) == 1
    deps = payment_deps(app, database, notary=StubSeal())
    await asyncio.gather(*(payment_jobs.JOBS.drain(deps) for _ in range(3)))
    assert await _count(database, FiscalReceipt) == 1


def _tamper_signature(headers: dict[str, str]) -> dict[str, str]:
    raw = bytearray(base64.b64decode(headers["x-sandbox-signature"]))
    raw[0] ^= 0xFF
    return {**headers, "x-sandbox-signature": base64.b64encode(bytes(raw)).decode()}


@pytest.mark.parametrize("attack", ["bad_signature", "stale_timestamp", "replayed", "amount_mismatch",
                                    "unknown_payment_code"])
async def test_each_bad_callback_is_refused_recorded_and_changes_nothing(
        attack: str, database: Database, app: Starlette, api: httpx.AsyncClient,
        settings: Settings) -> None:
    # signature, ±300 s window, nonce never seen, payment code known, amount equal to
    # the amount due on the payment date; each refused, a security event, nothing changes
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    headers = signed(settings, body)
    if attack == "bad_signature":
        headers = _tamper_signature(headers)
    elif attack == "stale_timestamp":
        headers = signed(settings, body, at=datetime.now(UTC) - timedelta(seconds=301))
    elif attack == "replayed":
        harmless = notice_body(order, fw.payment_code, status="pending")
        headers = signed(settings, harmless)
        assert (await post_callback(api, harmless, headers)).status_code == 200
        body = harmless
    elif attack == "amount_mismatch":
        body = notice_body(order, fw.payment_code, amount_fen=order.amount_fen - 1)
        headers = signed(settings, body)
    else:
        body = notice_body(order, "12345678901234567890", order_id="0" * 32)
        headers = signed(settings, body)
    before = await _snapshot(database)
    answer = await post_callback(api, body, headers)
    # an amount that can never match is refused for good ("stop"); the rest ask for a retry
    retry = {"code": "FAIL", "message": "retry later"}
    assert answer.json() == (STOP if attack == "amount_mismatch" else retry)
    assert answer.status_code == {"bad_signature": 401, "stale_timestamp": 401, "replayed": 409,
                                  "amount_mismatch": 200, "unknown_payment_code": 422}[attack]
    async with database.sessions() as db:
        events = list((await db.execute(select(PaymentSecurityEvent))).scalars())
    assert [e.reason for e in events] == [attack]
    assert events[0].body_sha256 and events[0].client_key
    assert await _snapshot(database) == before


async def test_a_wrong_amount_that_was_taken_is_kept_for_a_refund_not_applied(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # payments.callbacks: money the platform says it took is recorded, never silently dropped
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code, amount_fen=order.amount_fen + 100)
    assert (await post_callback(api, body, signed(settings, body))).json() == STOP
    async with database.sessions() as db:
        record = (await db.execute(select(PaymentRecord))).scalar_one()
    assert (record.applied, record.refund_required, record.reason) == (False, True, "amount_mismatch")
    fine = (await api.get(f"/api/v1/fines/{fw.fine_id}", headers=await _agency(api, database))).json()
    assert fine["state"] == "unpaid" and fine["refund_flags"] == 1


async def _agency(api: httpx.AsyncClient, database: Database) -> dict[str, str]:
    from tests.portal.web.api.conftest import bearer, fetch_token, new_client

    client = await new_client(database, "福州市市场监督管理局")
    return bearer(await fetch_token(api, client))


async def test_a_payment_appends_the_order_paid_then_the_payment_and_notifies_on_each_chosen_channel(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # the order's change and the payment are one act: appended in one sequence, each linked to
    # the one before it (SECURITY.md 16.4.2); the confirmation goes where the party chose
    fw = await fine_world(database)
    async with transaction(database.sessions) as db:
        await notification_preferences.set_preferences(
            db, fw.world.party_id, email="zhangsan@example.cn", mobile="13800138000",
            email_enabled=True, sms_enabled=True)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(api, body, signed(settings, body))).json() == STOP
    async with database.sessions() as db:
        chain = list((await db.execute(select(EvidenceEvent).where(
            EvidenceEvent.chain == f"fine:{fw.fine_id}").order_by(EvidenceEvent.seq))).scalars())
        channels = set((await db.execute(select(OutboxMessage.channel).where(
            OutboxMessage.kind == "payment_confirmed"))).scalars())
        report = await evidence.verify_chains(db, f"fine:{fw.fine_id}")
    assert [e.kind for e in chain[-2:]] == ["order_paid", "payment_recorded"]
    assert chain[-1].prev_hash == chain[-2].hash and chain[-1].seq == chain[-2].seq + 1
    assert report.ok and report.events == len(chain)
    assert channels == {"inbox", "email", "sms"}


async def test_a_redelivered_notification_is_a_duplicate_not_an_attack(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # STYLE.md convention 8: the same notification id again (fresh nonce) is a no-op, answered "stop"
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code, notification_id="N-again")
    assert (await post_callback(api, body, signed(settings, body))).json() == STOP
    before = await _snapshot(database)
    assert (await post_callback(api, body, signed(settings, body))).json() == STOP
    assert await _snapshot(database) == before
    assert await _count(database, PaymentSecurityEvent) == 0
    assert await _count(database, PaymentNonce) == 2


async def test_a_stale_pending_notice_after_paid_is_refused_by_the_transition_table(
        database: Database, app: Starlette, api: httpx.AsyncClient, settings: Settings) -> None:
    # payments.states: out-of-order notices change nothing; illegal transitions refused and logged
    fw = await fine_world(database)
    order = await place_order(app, database, fw)
    paid = notice_body(order, fw.payment_code)
    assert (await post_callback(api, paid, signed(settings, paid))).json() == STOP
    late = notice_body(order, fw.payment_code, status="pending")
    before = await _snapshot(database)
    answer = await post_callback(api, late, signed(settings, late))
    assert answer.json() == STOP  # retrying cannot make it legal
    assert await _snapshot(database) == before
    async with database.sessions() as db:
        reasons = list((await db.execute(select(PaymentSecurityEvent.reason))).scalars())
    assert reasons == ["illegal_transition"]


async def test_unknown_platform_is_404_and_recorded(database: Database, api: httpx.AsyncClient) -> None:
    answer = await api.post("/api/v1/payments/callbacks/alipay", content=json.dumps({}).encode(),
                            headers={"content-type": "application/json"})
    assert answer.status_code == 404
    assert await _count(database, PaymentSecurityEvent) == 1
