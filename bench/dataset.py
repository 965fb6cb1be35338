"""A realistic dataset for the end-to-end benchmarks, seeded through the services an agency's
API calls use (never raw SQL into legal tables), so every row passes the same rules.

``seed_world`` seeds the demo (``portal.demo``: the two demo agencies with their API clients, the
demo logins' cases, fines and mailbox), then ``count`` more cases of the demo market regulator
and ``count`` published decisions:

- parties: every tenth case is 张三's (``zhangsan``), every tenth the company 李四 acts for
  (``lisi``), the rest other companies'; each party has consented to e-service;
- stages: every case is filed; three in four have the prior notice; half are decided, and
  each decided one is served into its party's mailbox and its fine made payable, as the agency
  API does after a delivery;
- publications: penalty decisions of other companies over the last year, whose texts carry
  ``SEARCH_WORDS``.

Run on its own, this module does nothing (``make bench`` skips it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.harness import portal_env
from portal import demo
from portal.blobstore import BlobStore, open_blob_store
from portal.database import create_engine, session_factory, transaction, utcnow
from portal.demo.publicity import credit_code
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.evidence_hash import instant_text
from portal.legal_calendar import CHINA_TZ
from portal.models import Agency
from portal.models.cases import Case
from portal.models.parties import Party
from portal.publicity.ingest import Kind, Submission
from portal.services import cases, consent, deliveries, outbox, publications, served_fines
from portal.services.calendar import load_calendar
from portal.services.cases import NewCase, NewParty, Officer
from portal.settings import Settings, load_settings
from portal.vocabulary import ORGANISATION, PERSON, SCOPE_ALL

SEARCH_WORDS = ("保质期", "虚假广告", "年度报告", "食品")
_VIOLATIONS = ("销售超过保质期的预包装食品", "发布虚假广告", "未按规定公示年度报告",
               "经营无中文标签的进口食品")
_OFFICERS = (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024"))


@dataclass(frozen=True)
class SeededWorld:
    """What the benchmarks need to know of the seeded data."""

    cases: int
    deliveries: int
    publications: int
    agency_name: str
    client_id: str
    client_secret: str
    delivery_case: str
    """A case of the agency whose party (``delivery_party``) has consented to e-service."""
    delivery_party: dict[str, str]
    public_case: str
    """A case whose QR link the public opens."""


def _party(n: int) -> NewParty:
    person, agent = DEMO_IDENTITIES[0], DEMO_IDENTITIES[1]
    if n % 10 == 0:
        return NewParty(PERSON, person.name, id_number=person.id_number)
    if n % 10 == 1 and agent.org_name and agent.org_credit_code:
        return NewParty(ORGANISATION, agent.org_name, credit_code=agent.org_credit_code)
    return NewParty(ORGANISATION, f"福州榕兴{n}号贸易有限公司", credit_code=credit_code(1000 + n))


async def _consented(db: AsyncSession, party: Party, settings: Settings) -> None:
    """E-service consent for ``party``, unless it has one."""
    if await consent.latest(db, party.id) is None:
        await consent.record_consent(
            db, party_id=party.id, signer_person_id=party.id, scope=SCOPE_ALL, agency_ids=[],
            email_copy=None, method="remote_signature", document_sha256="b" * 64,
            actor=f"party:{party.id}", renderer=outbox.renderer_for(settings.public_url))


async def _case(db: AsyncSession, settings: Settings, blobs: BlobStore, agency_id: int, n: int,
                document: bytes) -> tuple[Case, bool]:
    """Case ``n`` at its stage (see the module docstring); (case, whether a document was served)."""
    now, year = utcnow(), utcnow().year
    violation = _VIOLATIONS[n % len(_VIOLATIONS)]
    case = await cases.register_case(db, agency_id, NewCase(
        agency_case_number=f"榕市监处罚〔{year}〕{2000 + n}号", case_type="行政处罚", matter=violation,
        hearing_right=False, electronic_monitoring=False, parties=(_party(n),), officers=_OFFICERS))
    actor = f"agency:{agency_id}/bench"

    def ago(days: float) -> str:
        return instant_text(now - timedelta(days=days, minutes=n))

    await cases.add_stage_event(db, case, "filed", {"occurred_at": ago(41)}, actor)
    if n % 4 == 3:
        return case, False
    fine = (1 + n % 20) * 50_000
    await cases.add_stage_event(db, case, "penalty_notice", {
        "occurred_at": ago(31), "informed_at": ago(30.9), "proposed_penalty": f"罚款人民币{fine // 100}元",
        "proposed_fine_fen": fine, "facts": f"当事人{violation}。",
        "legal_basis": "《中华人民共和国行政处罚法》第二十八条"}, actor)
    if n % 4 == 2:
        return case, False
    await cases.add_stage_event(db, case, "decided", {
        "occurred_at": ago(1), "decision_number": f"榕市监罚字〔{year}〕{2000 + n}号",
        "penalty": f"罚款人民币{fine // 100}元", "fine_fen": fine}, actor)
    party = (await cases.parties(db, case))[0]
    await _consented(db, party, settings)
    title = f"{case.agency_case_number} 行政处罚决定书"
    request = deliveries.DeliveryRequest("行政处罚决定书", title, document, None)
    key = party.credit_code or party.id_number or ""
    await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                             fingerprint=request.fingerprint(case.code, key), actor=actor,
                             renderer=outbox.renderer_for(settings.public_url))
    await served_fines.make_payable(db, case)
    return case, True


def _publication(n: int, now: datetime) -> Submission:
    violation = _VIOLATIONS[n % len(_VIOLATIONS)]
    decided = (now - timedelta(days=2 + n % 360)).astimezone(CHINA_TZ).date()
    return Submission(
        kind=Kind.PENALTY_DECISION, agency_case_number=f"榕市监罚〔{decided.year}〕{5000 + n}号",
        party_kind=ORGANISATION, party_name=f"福州闽兴{n}号食品贸易有限公司",
        credit_code=credit_code(5000 + n), violation=f"当事人{violation}，货值金额{100 + n}元。",
        legal_basis="《中华人民共和国食品安全法》第三十四条",
        result=f"罚款人民币{(1 + n % 20) * 500}元。", amount_fen=(1 + n % 20) * 50_000,
        decision_date=decided, region_code="350100")


async def seed_world(url: str, data_dir: Path, count: int, document: bytes) -> SeededWorld:
    """Seed the demo and ``count`` cases and publications (module docstring) into the database
    at ``url`` for servers whose ``DATA_DIR`` is ``data_dir``."""
    settings = load_settings(portal_env(url, data_dir, 8000))
    engine = create_engine(url)
    blobs = open_blob_store(settings.blobs, engine)
    try:
        sessions = session_factory(engine)
        await demo.seed(settings, sessions)
        client = json.loads((data_dir / "demo-agency.json").read_text())[0]
        async with sessions() as db:
            agency_id = (await db.execute(select(Agency.id).where(
                Agency.name == client["agency_name"]))).scalar_one()
        served, codes = 0, []
        for n in range(count):
            async with transaction(sessions) as db:
                case, delivered = await _case(db, settings, blobs, agency_id, n, document)
                served += delivered
                codes.append(case.code)
        async with transaction(sessions) as db:
            calendar = await load_calendar(db)
            for n in range(count):
                await publications.publish(db, agency_id, f"agency:{agency_id}/bench",
                                           _publication(n, utcnow()), calendar)
    finally:
        await blobs.aclose()
        await engine.dispose()
    company = DEMO_IDENTITIES[1].org_credit_code or ""
    return SeededWorld(cases=count, deliveries=served, publications=count,
                       agency_name=client["agency_name"], client_id=client["client_id"],
                       client_secret=client["client_secret"], delivery_case=codes[1],
                       delivery_party={"credit_code": company}, public_case=codes[0])
