"""Demo objections to data (数据异议, GD art. 49; FJ art. 15) for ``make run``.

- 张三 (``zhangsan``) objected to the record of his demo case (the quantity in the matter), and
  the demo agency answered: corrected. He reads it under 我的数据异议 (``/objections``) and in
  the case's timeline; the notice of the answer is in his notices.
- The market regulator published a decision about 张三 (naming his ID number, so the portal
  recognises him when he logs in), and he objected to it; the objection is not answered yet,
  so the item's public page and the search results say it is under objection (never by whom).

Everything goes through the services an agency's and a party's calls use; the receipts are
sealed by the background worker within seconds of ``make run`` starting.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.blobstore import open_blob_store
from portal.cases.objections import Answer, Outcome
from portal.database import engine_of, transaction, utcnow
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.legal_calendar import CHINA_TZ
from portal.models.parties import Party
from portal.publicity.ingest import Kind, Submission
from portal.services import cases, objections, outbox, publication_subjects, publications
from portal.services.calendar import load_calendar
from portal.settings import Settings
from portal.vocabulary import PERSON


async def seed_objections(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                          agency_id: int, case_code: str) -> None:
    person = DEMO_IDENTITIES[0]
    blobs = open_blob_store(settings.blobs, engine_of(sessions))
    renderer = outbox.renderer_for(settings.public_url)
    try:
        async with transaction(sessions) as db:
            party = (await db.execute(select(Party).where(Party.id_number == person.id_number))).scalar_one()
            filed = objections.Filed(party.id, party.id, f"party:{party.id}", {
                "details": "案由记载我店销售超过保质期的酸奶12盒，实际被查扣的是8盒，"
                           "另4盒为店内自用、未标价。",
                "correction": "销售超过保质期的酸奶8盒"})
            case = await cases.case_for_party(db, party.id, case_code)
            on_case = await objections.on_case(db, blobs, case, filed, now=utcnow() - timedelta(hours=20))
            await objections.answer(db, on_case, Answer(
                Outcome.CORRECTED, "经核对现场检查笔录和扣押物品清单，数量应为8盒，已更正案件记录；"
                "处罚金额的计算不受影响。"), f"agency:{agency_id}/demo", renderer)
            item = await _item_about(db, settings, agency_id, person.name, person.id_number)
            await objections.on_publication(db, blobs, settings.secret_key, item, objections.Filed(
                party.id, party.id, f"party:{party.id}",
                {"details": "公示的违法行为发生日期有误：当日本店停业装修，有街道出具的停业证明。",
                 "correction": ""}))
    finally:
        await blobs.aclose()


async def _item_about(db: AsyncSession, settings: Settings, agency_id: int, name: str,
                      id_number: str) -> int:
    """A decision about the demo person, published yesterday with his ID number as subject."""
    now = utcnow()
    decided = (now - timedelta(days=3)).astimezone(CHINA_TZ).date()
    submission = Submission(
        kind=Kind.PENALTY_DECISION, agency_case_number=f"榕市监罚〔{decided.year}〕188号",
        party_kind=PERSON, party_name=name, credit_code=None,
        violation=f"当事人{name}在其经营的便利店销售超过保质期的袋装面包6袋。",
        legal_basis="《中华人民共和国食品安全法》第三十四条第十项、第一百二十四条第一款第五项",
        result="没收超过保质期的袋装面包6袋，并处罚款人民币五千元。", amount_fen=500_000,
        decision_date=decided, region_code="350100")
    subjects = publication_subjects.of(settings.secret_key, [("party", PERSON, id_number)])
    item = await publications.publish(db, agency_id, f"agency:{agency_id}/demo", submission,
                                      await load_calendar(db), subjects=subjects,
                                      now=now - timedelta(days=1))
    return item.id
