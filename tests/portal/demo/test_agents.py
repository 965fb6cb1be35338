"""The demo agent ``make run`` seeds (portal.demo.agents; APL art. 64(3)): 张三's lawyer, whose
power of attorney he signed, is who the agency sees acting for him; both databases."""

from __future__ import annotations

from starlette.applications import Starlette

from portal import demo
from portal.database import transaction
from portal.demo import agents as demo_agents
from portal.demo import cases as demo_cases
from portal.services import agencies, authorisations, cases
from portal.settings import Settings
from tests.conftest import Database


async def test_the_demo_lawyer_acts_for_zhangsan_on_a_signed_power_of_attorney(
        app: Starlette, database: Database, settings: Settings) -> None:
    async with transaction(database.sessions) as db:
        agency = await agencies.get_or_create_agency(db, demo.DEMO_AGENCIES[0])
        codes = await demo_cases.seed_cases(db, agency.id)
    await demo_agents.seed_agents(settings, database.sessions, app.state.notary)
    async with database.sessions() as db:
        case = await cases.case_for_agency(db, agency.id, codes[0])
        [lawyer] = await authorisations.representatives(db, case)
    assert (lawyer.name, lawyer.id_number) == (demo_agents.LAWYER, demo_agents.LAWYER_ID)
    assert lawyer.authorisation is not None
    signed = await app.state.blobs.get(lawyer.authorisation.document_sha256)
    report = await app.state.notary.verify(signed)
    assert report.passed and report.signatures[0].signer_name == "张三"
