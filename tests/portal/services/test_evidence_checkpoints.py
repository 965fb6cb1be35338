"""Tampering the hash chain alone cannot show, and the rows tied to the chain (GD
art. 62(3): nobody may tamper with enforcement information; SECURITY.md v5.0.0-16.4.2).

A tail cut off with its head moved back, a whole chain deleted with its head, and every hash of
a chain recomputed after a rewrite each pass ``verify_chains``; the RFC 3161 checkpoint taken
before (kept in its own tables and exported to a file) makes ``portal evidence verify`` report
each. A delivery's service time and a payment's amount changed in their rows are reported
against their events. PostgreSQL refuses TRUNCATE of the evidence log. Both databases.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from portal.database import transaction
from portal.evidence_hash import GENESIS, event_hash
from portal.models.evidence import EvidenceCheckpoint, EvidenceEvent
from portal.notary import Notary
from portal.services import checkpoints, evidence, evidence_records
from portal.settings import Settings
from portal.workers import evidence as evidence_worker
from tests.builders import case_world, deliver, fine_world, sign_consent
from tests.conftest import Database, run_cli
from tests.portal.web.pages.payment_factories import notice_body, place_order, post_callback, signed


async def append(database: Database, chain: str, count: int) -> None:
    for n in range(count):
        async with transaction(database.sessions) as db:
            await evidence.append(db, chain=chain, kind="read", actor="test", payload={"n": n})


async def checkpoint(database: Database, settings: Settings) -> None:
    async with Notary.from_settings(settings) as notary:
        await evidence_worker.take_checkpoint(evidence_worker.EvidenceDeps(
            database.sessions, notary, settings.data_dir / checkpoints.EXPORT_DIR))


async def tamper(database: Database, *statements: str) -> None:
    """What an operator with the database's password could do (PostgreSQL's triggers off)."""
    async with transaction(database.sessions) as db:
        if database.backend == "postgresql":
            await db.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await db.execute(text(statement))


async def rehash(db: AsyncSession, chain: str) -> None:
    """Rewrite every event of ``chain`` and recompute each hash and the head, as a forger would."""
    prev = GENESIS
    rows = (await db.execute(select(EvidenceEvent).where(EvidenceEvent.chain == chain)
                             .order_by(EvidenceEvent.seq))).scalars().all()
    for row in rows:
        payload = json.dumps({"n": 99}, separators=(",", ":"))
        digest = event_hash(chain=chain, seq=row.seq, kind=row.kind, occurred_at=row.occurred_at,
                            actor=row.actor, payload=payload, prev_hash=prev)
        await db.execute(text("UPDATE evidence_events SET payload = :p, prev_hash = :prev, hash = :h "
                              "WHERE id = :id"), {"p": payload, "prev": prev, "h": digest, "id": row.id})
        prev = digest
    await db.execute(text("UPDATE evidence_chain_heads SET hash = :h WHERE chain = :c"),
                     {"h": prev, "c": chain})


async def test_tampering_the_chain_cannot_hide_from_the_checkpoint(
        database: Database, settings: Settings, data_dir: Path) -> None:
    for chain in ("party:1", "party:2", "party:3"):
        await append(database, chain, 3)
    await checkpoint(database, settings)
    exported = sorted((data_dir / checkpoints.EXPORT_DIR).glob("*.json"))
    assert len(exported) == 1 and len(json.loads(exported[0].read_text())["heads"]) == 3
    clean = await run_cli("evidence", "verify", database_url=database.url, data_dir=data_dir)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    await tamper(database,
                 "DELETE FROM evidence_events WHERE chain = 'party:1' AND seq = 3",  # the tail
                 "UPDATE evidence_chain_heads SET seq = 2, hash = (SELECT hash FROM evidence_events "
                 "WHERE chain = 'party:1' AND seq = 2) WHERE chain = 'party:1'",
                 "DELETE FROM evidence_events WHERE chain = 'party:2'",  # a whole chain
                 "DELETE FROM evidence_chain_heads WHERE chain = 'party:2'")
    async with transaction(database.sessions) as db:
        if database.backend == "postgresql":
            await db.execute(text("SET LOCAL session_replication_role = replica"))
        await rehash(db, "party:3")  # every hash recomputed
    async with database.sessions() as db:
        assert (await evidence.verify_chains(db)).ok  # the chains alone see nothing wrong
    found = await run_cli("evidence", "verify", database_url=database.url, data_dir=data_dir)
    assert found.returncode == 1
    assert "证据链 party:1 第 3 条事件已被删除" in found.stdout
    assert "证据链 party:2 第 3 条事件已被删除" in found.stdout
    assert "证据链 party:3 第 3 条事件已被改写" in found.stdout


async def test_checkpoints_chain_and_a_removed_one_is_reported(
        database: Database, settings: Settings, data_dir: Path) -> None:
    await append(database, "party:1", 1)
    await checkpoint(database, settings)
    await checkpoint(database, settings)  # nothing moved: no checkpoint, no TSA request
    await append(database, "party:1", 1)
    await checkpoint(database, settings)
    async with database.sessions() as db:
        rows = (await db.scalars(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.number))).all()
        services = await Notary.from_settings(settings).services()
        assert await checkpoints.verify(db, services.trust, data_dir / checkpoints.EXPORT_DIR) == []
    assert [r.number for r in rows] == [1, 2] and rows[1].prev_digest == rows[0].digest
    await tamper(database, "DELETE FROM evidence_checkpoint_heads WHERE checkpoint_id = "
                           "(SELECT id FROM evidence_checkpoints WHERE number = 2)",
                 "DELETE FROM evidence_checkpoints WHERE number = 2")
    async with database.sessions() as db:
        problems = await checkpoints.verify(db, services.trust, data_dir / checkpoints.EXPORT_DIR)
    assert problems == ["导出文件中的第 2 号检查点在数据库中缺失或不同"]


async def test_truncate_of_the_evidence_log_is_refused(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; the checkpoints cover it there")
    await append(database, "party:1", 1)
    tables = ("evidence_events", "evidence_chain_heads", "evidence_checkpoints", "deliveries", "payments")
    for table in tables:
        with pytest.raises(DBAPIError, match="TRUNCATE refused"):
            async with transaction(database.sessions) as db:
                await db.execute(text(f"TRUNCATE {table} CASCADE"))


async def test_service_time_and_payment_rows_are_checked_against_their_events(
        database: Database, app: Starlette, client: httpx.AsyncClient, settings: Settings,
        data_dir: Path) -> None:  # FJ art. 19: the service time is the arrival the chain recorded
    w = await case_world(database)
    await sign_consent(database, w.party_id)
    delivery = await deliver(database, app.state.blobs, w.party_id, w.case_id)
    fw = await fine_world(database, the_world=w, number="榕市监罚〔2026〕8号")
    order = await place_order(app, database, fw)
    body = notice_body(order, fw.payment_code)
    assert (await post_callback(client, body, signed(settings, body))).status_code == 200
    async with database.sessions() as db:
        assert await evidence_records.verify(db) == []
    await tamper(database,
                 f"UPDATE deliveries SET arrived_at = '2026-01-01 00:00:00' WHERE id = {delivery.id}",
                 "UPDATE payments SET amount_fen = amount_fen - 1")
    async with database.sessions() as db:
        problems = await evidence_records.verify(db)
    assert problems == [f"送达记录 {delivery.public_id}：送达时间与到达事件不符",
                        problems[1]] and "流水号或金额与缴款事件不符" in problems[1]
    await tamper(database, f"DELETE FROM delivery_reads WHERE delivery_id = {delivery.id}",
                 f"DELETE FROM service_receipts WHERE delivery_id = {delivery.id}",
                 f"DELETE FROM arrival_timestamps WHERE delivery_id = {delivery.id}",
                 f"DELETE FROM fines WHERE delivery_id = {delivery.id}",
                 f"DELETE FROM deliveries WHERE id = {delivery.id}")
    async with database.sessions() as db:
        problems = await evidence_records.verify(db)
    assert any(p.startswith("到达事件") and p.endswith("没有对应的送达记录") for p in problems)
