"""Deliveries and payments checked against the events that record them.

The service time is ``deliveries.arrived_at`` and a payment is a row of ``payments``; both
are what pages, deadlines and receipts read. Each row keeps the hash of its event in the
evidence chain, and the event's payload names the row. So a row changed after the fact (an
earlier ``arrived_at``, another document, another amount), a row without its event, or an
event whose row is gone, shows here -- the chain protects the events, this ties the rows to
them. ``portal evidence verify`` reports what ``verify`` finds, in Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.eservice import Delivery
from portal.models.evidence import EvidenceEvent
from portal.models.payments import PaymentRecord


async def _events(db: AsyncSession, kind: str) -> dict[str, tuple[datetime, dict[str, Any]]]:
    rows = await db.execute(select(EvidenceEvent.hash, EvidenceEvent.occurred_at, EvidenceEvent.payload)
                            .where(EvidenceEvent.kind == kind))
    return {row.hash: (row.occurred_at, json.loads(row.payload)) for row in rows}


async def verify(db: AsyncSession) -> list[str]:
    """Every mismatch between the rows and their events; empty when all agree."""
    return [*await _deliveries(db), *await _payments(db)]


async def _deliveries(db: AsyncSession) -> list[str]:
    events = await _events(db, "arrived")
    problems, seen = [], set()
    for delivery in (await db.scalars(select(Delivery).order_by(Delivery.id))):
        where = f"送达记录 {delivery.public_id}"
        found = events.get(delivery.arrival_event_hash)
        if found is None:
            problems.append(f"{where}：证据链中没有其到达事件")
            continue
        seen.add(delivery.arrival_event_hash)
        occurred_at, payload = found
        problems += (f"{where}：{what}与到达事件不符" for what in _delivery_differences(delivery, occurred_at,
                                                                                   payload))
    problems += (f"到达事件 {digest[:16]}…：没有对应的送达记录" for digest in events.keys() - seen)
    return problems


def _delivery_differences(delivery: Delivery, occurred_at: datetime,
                          payload: dict[str, Any]) -> Iterator[str]:
    if occurred_at != delivery.arrived_at:
        yield "送达时间"
    if payload.get("delivery") != delivery.public_id:
        yield "送达编号"
    if payload.get("document_sha256") != delivery.document_sha256:
        yield "文书摘要"
    if (payload.get("document_type"), payload.get("title")) != (delivery.document_type, delivery.title):
        yield "文书类型或标题"
    if payload.get("agency_id") != delivery.agency_id:
        yield "执法机关"


async def _payments(db: AsyncSession) -> list[str]:
    events = await _events(db, "payment_recorded")
    problems, seen = [], set()
    for payment in (await db.scalars(select(PaymentRecord).order_by(PaymentRecord.id))):
        where = f"缴款记录 {payment.platform}:{payment.platform_serial}"
        found = events.get(payment.event_hash)
        if found is None:
            problems.append(f"{where}：证据链中没有其缴款事件")
            continue
        seen.add(payment.event_hash)
        _, payload = found
        money = (payload.get("serial"), payload.get("amount_fen"))
        if money != (payment.platform_serial, payment.amount_fen):
            problems.append(f"{where}：流水号或金额与缴款事件不符")
        if _instant(payload.get("paid_at")) != payment.paid_at:
            problems.append(f"{where}：缴款时间与缴款事件不符")
        state = (payload.get("applied"), payload.get("refund_required"))
        if state != (payment.applied, payment.refund_required):
            problems.append(f"{where}：入账或退款状态与缴款事件不符")
    problems += (f"缴款事件 {digest[:16]}…：没有对应的缴款记录" for digest in events.keys() - seen)
    return problems


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
