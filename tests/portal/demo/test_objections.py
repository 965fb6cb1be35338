"""The demo objections ``make run`` seeds (portal.demo.objections; GD art. 49, FJ art. 15): 张三
has one objection answered and one under review, and the item it concerns says so publicly;
both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from portal import demo
from portal.database import transaction
from portal.demo import cases as demo_cases
from portal.demo import objections as demo_objections
from portal.models import OutboxMessage, Party
from portal.services import agencies, objections
from portal.settings import Settings
from tests.conftest import Database


async def test_the_demo_has_an_answered_objection_and_an_item_under_objection(
        app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings) -> None:
    async with transaction(database.sessions) as db:
        agency = await agencies.get_or_create_agency(db, demo.DEMO_AGENCIES[0])
        codes = await demo_cases.seed_cases(db, agency.id)
    await demo_objections.seed_objections(settings, database.sessions, agency.id, codes[0])
    async with database.sessions() as db:
        zhangsan = (await db.execute(select(Party).where(Party.name == "张三"))).scalar_one()
        found = await objections.of_party(db, zhangsan.id)
        notified = (await db.execute(select(OutboxMessage.kind).where(
            OutboxMessage.party_id == zhangsan.id))).scalars().all()
    assert sorted(o.answer.outcome if o.answer else "open" for o in found) == ["corrected", "open"]
    assert "objection_answered" in notified
    [open_one] = [o for o in found if o.answer is None]
    item = open_one.submission.publication_id
    assert item is not None
    page = (await client.get(f"/publicity/{item}")).text
    assert "本信息正在核查" in page and "停业装修" not in page
