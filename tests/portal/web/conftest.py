"""Fixtures of the page tests: a case of 张三's and one of his company's, registered through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest_asyncio

from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.services import agencies, cases
from tests.builders import new_case
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN

NOTICE = {"proposed_penalty": "没收违法所得，并处罚款人民币一万元", "proposed_fine_fen": 1_000_000,
          "facts": "当事人销售超过保质期的酸奶12盒",
          "legal_basis": "《中华人民共和国食品安全法》第一百二十四条"}


@dataclass(frozen=True)
class World:
    person_case: str
    company_case: str


@pytest_asyncio.fixture(loop_scope="session")
async def world(database: Database) -> World:
    async with transaction(database.sessions) as db:
        agency = (await agencies.get_or_create_agency(db, "福州市市场监督管理局")).id
        person = await cases.register_case(db, agency, new_case("榕市监处罚〔2026〕101号", ZHANGSAN.party))
        issued, informed = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
        await cases.add_stage_event(db, person, "penalty_notice", {
            **NOTICE, "occurred_at": instant_text(issued), "informed_at": instant_text(informed)},
            "agency:test")
        company = await cases.register_case(db, agency, new_case("榕市监处罚〔2026〕87号", COMPANY.party))
    return World(person.code, company.code)
