"""Publication and withdrawal are records of legal significance (DESIGN.md "Data and time";
GD art. 62(3); FJ art. 21 "the history is kept"): versions and withdrawals are rows that are
only added, each act is an event in the item's hash chain, and PostgreSQL itself refuses to
change or remove a version. Both databases.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.database import transaction
from portal.models.evidence import EvidenceEvent
from portal.models.publicity import PublicationVersion
from portal.publicity.ingest import publishable, submission_from_json
from portal.publicity.window import WithdrawalGround
from portal.services import evidence, publications
from portal.services.calendar import load_calendar
from tests.builders import agency
from tests.conftest import Database
from tests.portal.publicity.factories import T0, body, change_of, publish


async def test_each_act_adds_rows_and_chain_events_and_changes_no_version(database: Database) -> None:
    market = await agency(database)
    first = body()
    item = await publish(database, market, first)
    async with database.sessions() as db:
        before = [tuple(row) for row in (await db.execute(select(PublicationVersion.__table__))).all()]
    second = change_of(first, result="罚款人民币三千元。")
    async with transaction(database.sessions) as db:
        calendar = await load_calendar(db)
        await publications.republish(db, market, "agency:test", item.id,
                                     submission_from_json(second, new=False), calendar,
                                     now=T0 + timedelta(days=70))
        await publications.withdraw(db, market, "agency:test", item.id, ground=WithdrawalGround.OTHER,
                                    reason="公示目的已经实现", occurred_on=None, named_persons=(),
                                    calendar=calendar, now=T0 + timedelta(days=140))
    async with database.sessions() as db:
        after = [tuple(row) for row in (await db.execute(select(PublicationVersion.__table__)
                                                         .order_by(PublicationVersion.version))).all()]
        chain = f"publication:{item.id}"
        events = (await db.execute(select(EvidenceEvent).where(EvidenceEvent.chain == chain)
                                   .order_by(EvidenceEvent.seq))).scalars().all()
        report = await evidence.verify_chains(db, chain)
    assert after[0] == before[0] and len(after) == 2  # version 1 untouched, version 2 added
    assert [e.kind for e in events] == ["publication_published", "publication_republished",
                                        "publication_withdrawn"]
    digest = publishable(submission_from_json(second, new=False)).digest()
    assert json.loads(events[1].payload)["content_sha256"] == digest  # a hash, never the text
    assert report.ok and report.events == 3


async def test_postgresql_refuses_to_change_or_remove_a_version(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (as for evidence_events)")
    item = await publish(database, await agency(database), body())
    for statement in ("UPDATE publication_versions SET result = 'x'",
                      "DELETE FROM publication_versions"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(database.sessions) as db:
                await db.execute(text(statement))
    async with database.sessions() as db:
        assert (await db.scalar(select(PublicationVersion.result)
                                .where(PublicationVersion.publication_id == item.id))) != "x"
