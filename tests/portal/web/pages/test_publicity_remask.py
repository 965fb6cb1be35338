"""Persons in published texts on the public pages and in the export, and items stored before a
rule found them (LAW.md: every person named in a published text is masked, FJ art.
8, GD art. 46, PIPL art. 28; organisations and credit codes stay). Both databases.

Items stored before the masker caught a name are masked again by ``portal publicity remask``
(``publications.remask``): a new version with the masked texts and the same window, an event in
the item's chain, and a search text without the name; the earlier version stays in the record.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.database import transaction
from portal.models.evidence import EvidenceEvent
from portal.models.publicity import Publication, PublicationVersion
from portal.publicity import MaskResult, ingest
from portal.services import evidence, publications
from tests.builders import agency
from tests.conftest import Database
from tests.portal.publicity.factories import T0, body, credit_code, publish

NOW = T0 + timedelta(days=3)
VIOLATION = "当事人张三销售过期食品，证人欧阳明出具证言，福州闽江贸易有限公司对此无异议。"


async def public_texts(client: httpx.AsyncClient, item_id: int) -> list[str]:
    return [(await client.get(f"/publicity/{item_id}")).text,
            (await client.get("/publicity/export.csv")).text,
            (await client.get("/publicity/export.json")).text,
            (await client.get("/publicity", params={"q": "欧阳"})).text]


async def test_persons_named_in_a_company_decision_are_masked_everywhere(
        database: Database, app: Starlette, client: httpx.AsyncClient) -> None:  # FJ art. 8; GD art. 46
    app.state.clock = lambda: NOW
    item = await publish(database, await agency(database), body(violation=VIOLATION))
    for text in await public_texts(client, item.id):
        assert "张三" not in text and "欧阳明" not in text
    page = (await client.get(f"/publicity/{item.id}")).text
    assert "当事人张*销售过期食品，证人欧阳*出具证言" in page
    assert "福州闽江贸易有限公司" in page and credit_code(len("福州闽江贸易有限公司")) in page
    search = (await client.get("/publicity", params={"q": "欧阳明"})).text
    assert f"/publicity/{item.id}" not in search  # the name is not in the search index either


async def test_remask_gives_items_stored_before_the_rule_a_masked_version(
        database: Database, app: Starlette, client: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.clock = lambda: NOW
    market = await agency(database)
    with monkeypatch.context() as old_masker:  # as an item stored by a masker missing persons
        old_masker.setattr(ingest, "mask_text", lambda text, **_: MaskResult(text, ()))
        item = await publish(database, market, body(violation=VIOLATION))
    assert "欧阳明" in (await client.get(f"/publicity/{item.id}")).text
    async with transaction(database.sessions) as db:
        report = await publications.remask(db, now=NOW)
    assert (report.checked, report.remasked) == (1, 1)
    for text in await public_texts(client, item.id):
        assert "张三" not in text and "欧阳明" not in text
    async with database.sessions() as db:
        versions = (await db.scalars(select(PublicationVersion).where(
            PublicationVersion.publication_id == item.id).order_by(PublicationVersion.version))).all()
        row = await db.get(Publication, item.id)
        kinds = (await db.scalars(select(EvidenceEvent.kind).where(
            EvidenceEvent.chain == publications.chain_of(item.id)).order_by(EvidenceEvent.seq))).all()
        chain_ok = (await evidence.verify_chains(db, publications.chain_of(item.id))).ok
    assert [v.version for v in versions] == [1, 2] and "欧阳明" in versions[0].violation  # the record
    assert versions[1].violation.startswith("当事人张*销售过期食品，证人欧阳*出具证言")
    assert (versions[1].published_at, versions[1].public_until) == (versions[0].published_at,
                                                                    versions[0].public_until)
    assert row is not None and row.public_until == versions[0].public_until
    assert "欧阳明" not in row.search_text
    assert list(kinds) == ["publication_published", "publication_remasked"] and chain_ok
    async with transaction(database.sessions) as db:
        again = await publications.remask(db, now=NOW)
    assert (again.checked, again.remasked) == (1, 0)  # masking is a fixed point
