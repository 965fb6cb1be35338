"""The legal event log is append-only and tamper-evident (DESIGN.md "Data and time"; GD art. 62(3);
SECURITY.md v5.0.0-16.4.2)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.database import transaction
from portal.evidence_hash import GENESIS, canonical_json, event_hash
from portal.services import evidence
from tests.conftest import Database, run_cli


async def _append(database: Database, chain: str, kind: str, payload: dict) -> None:
    async with transaction(database.sessions) as db:
        await evidence.append(db, chain=chain, kind=kind, actor="test", payload=payload)


async def test_events_link_into_a_verifiable_chain(database: Database) -> None:
    for n in range(3):
        await _append(database, "party:1", "arrived", {"n": n, "title": "行政处罚决定书"})
    await _append(database, "party:2", "consent_signed", {"scope": "all"})
    async with database.sessions() as db:
        report = await evidence.verify_chains(db)
        rows = (await db.execute(text(
            "SELECT seq, prev_hash, hash FROM evidence_events WHERE chain = 'party:1' ORDER BY seq"
        ))).all()
    assert report.ok and report.chains == 2 and report.events == 4
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


def test_hash_rule_is_reproducible_from_its_documentation() -> None:
    # An outside expert recomputes a row's hash from the rule in portal/evidence_hash.py.
    occurred = datetime(2026, 11, 20, 1, 2, 3, 4, tzinfo=UTC)
    payload = canonical_json({"标题": "决定书", "n": 1})
    content = (
        '{"actor":"agency:1","chain":"party:9","kind":"arrived",'
        '"occurred_at":"2026-11-20T01:02:03.000004Z","payload":' + json.dumps(payload, ensure_ascii=False)
        + ',"prev":"' + GENESIS + '","seq":1}'
    )
    expected = hashlib.sha256(content.encode()).hexdigest()
    assert event_hash(chain="party:9", seq=1, kind="arrived", occurred_at=occurred, actor="agency:1",
                      payload=payload, prev_hash=GENESIS) == expected


async def test_concurrent_appends_to_one_chain_serialise(database: Database) -> None:
    await asyncio.gather(*(_append(database, "party:7", "read", {"n": n}) for n in range(20)))
    async with database.sessions() as db:
        report = await evidence.verify_chains(db, "party:7")
        times = (await db.execute(text(
            "SELECT occurred_at FROM evidence_events WHERE chain = 'party:7' ORDER BY seq"))).scalars().all()
    assert report.ok and report.events == 20
    assert times == sorted(times)  # event times in a chain never go backwards


async def _tamper(database: Database, sql: str) -> None:
    async with database.engine.begin() as connection:
        if database.backend == "postgresql":
            await connection.execute(text(
                "ALTER TABLE evidence_events DISABLE TRIGGER evidence_events_append_only"))
        await connection.execute(text(sql))
        if database.backend == "postgresql":
            await connection.execute(text(
                "ALTER TABLE evidence_events ENABLE TRIGGER evidence_events_append_only"))


@pytest.mark.parametrize("sql, reason", [
    ("UPDATE evidence_events SET payload = '{\"n\": 99}' WHERE chain = 'party:3' AND seq = 2",
     "content does not match its hash"),
    ("DELETE FROM evidence_events WHERE chain = 'party:3' AND seq = 2", "missing event (sequence gap)"),
    ("DELETE FROM evidence_events WHERE chain = 'party:3' AND seq = 3",
     "events missing at the end of the chain"),
])
async def test_tampering_by_sql_is_found_at_the_first_broken_link(database: Database, sql: str,
                                                                  reason: str) -> None:
    for n in range(3):
        await _append(database, "party:3", "arrived", {"n": n})
    await _tamper(database, sql)
    async with database.sessions() as db:
        report = await evidence.verify_chains(db)
    assert not report.ok
    assert [(b.chain, b.reason) for b in report.broken] == [("party:3", reason)]


async def test_postgresql_refuses_update_and_delete_of_evidence(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; SQLite relies on the application never issuing them")
    await _append(database, "party:4", "arrived", {"n": 1})
    for sql in ("UPDATE evidence_events SET actor = 'x'", "DELETE FROM evidence_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.engine.begin() as connection:
                await connection.execute(text(sql))


async def test_cli_evidence_verify_reports_the_broken_link(database: Database, data_dir) -> None:
    for n in range(2):  # "read": an "arrived" event without its delivery row is a finding too
        await _append(database, "party:5", "read", {"n": n})
    ok = await run_cli("evidence", "verify", database_url=database.url, data_dir=data_dir)
    assert ok.returncode == 0, ok.stderr
    assert "证据链完整" in ok.stdout
    await _tamper(database, "UPDATE evidence_events SET actor = 'forged' WHERE seq = 1")
    bad = await run_cli("evidence", "verify", database_url=database.url, data_dir=data_dir)
    assert bad.returncode == 1
    assert "party:5" in bad.stdout and "第 1 条" in bad.stdout
