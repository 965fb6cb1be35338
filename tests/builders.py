"""Test worlds, built the way production writes them: through the portal's services.

A case here is registered by ``services.cases.register_case`` (the agency API's intake: its
checks of the identifiers' check characters, the parties found or created by identifier, the
``registered`` event on the case's chain), a consent is recorded by ``services.consent``, a
document served by ``services.deliveries``, a fine created by ``services.fines``. So a test
starts from rows production could have written, never from ones it could not (a party with a
wrong check character, a case without its event). What a test needs back is a small frozen
dataclass of ids and codes, not ORM rows that outlive their session.

Every test empties the database afterwards (``tests/conftest.py``), so worlds are built per
test; each is a handful of service calls in one or two transactions.

Also here: the case bodies and the 2027 calendar table that the tests of several packages share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from portal.blobstore import BlobStore
from portal.cases.intake import NewCase, NewParty, Officer
from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.identifiers import uscc_check_char
from portal.legal_calendar import china_date
from portal.models.cases import Case
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.services import agencies, cases, consent, deliveries, fines, outbox
from portal.services.identity import find_or_create_party
from portal.vocabulary import SCOPE_AGENCIES, SCOPE_ALL
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN, Company, Person

RENDERER = outbox.renderer_for("http://testserver")
MARKET = "福州市市场监督管理局"
TRANSPORT = "福州市交通运输局"
FINE_FEN = 100_000

# An operator table for 2027 as `portal calendar load FILE` reads it. Illustrative: the real
# 2027 arrangement was not published when this was written; only its shape matters here.
TABLE_2027 = """\
# 2027 arrangement (test fixture)
year,date,kind,name
2027,2027-01-01,holiday,元旦
2027,2027-01-02,holiday,元旦
2027,2027-01-03,holiday,元旦
2027,2027-02-06,holiday,春节
2027,2027-02-07,holiday,春节
2027,2027-02-08,holiday,春节
2027,2027-02-09,holiday,春节
2027,2027-02-10,holiday,春节
2027,2027-02-11,holiday,春节
2027,2027-02-12,holiday,春节
2027,2027-02-20,workday,春节
"""

OFFICERS = (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024"))
# a penalty notice's data (the page tests' case of 张三 has one)
NOTICE = {"proposed_penalty": "没收违法所得，并处罚款人民币一万元", "proposed_fine_fen": 1_000_000,
          "facts": "当事人销售超过保质期的酸奶12盒",
          "legal_basis": "《中华人民共和国食品安全法》第一百二十四条"}


def new_case(number: str = "榕市监处罚〔2026〕1号", *parties: NewParty) -> NewCase:
    return NewCase(number, "行政处罚", "销售超过保质期的食品", True, False,
                   parties or (ZHANGSAN.party,), OFFICERS)


_CREDIT_CODE_PREFIXES = {MARKET: "11350100MB0000001", "厦门市交通运输局": "11350200MB0000002"}


def credit_code(agency_name: str) -> str:
    """A test agency's unified social credit code (its development seal carries it); names
    without one of their own get one derived from the name."""
    prefix = _CREDIT_CODE_PREFIXES.get(agency_name)
    if prefix is None:
        prefix = "113501" + str(int(hashlib.sha256(agency_name.encode()).hexdigest(), 16))[:8] + "MB0"
    return prefix + uscc_check_char(prefix)


async def agency(database: Database, name: str = MARKET) -> int:
    async with transaction(database.sessions) as db:
        return (await agencies.get_or_create_agency(db, name)).id


async def party(db: AsyncSession, who: Person | Company) -> Party:
    """The party with ``who``'s identifier (e.g. created by a login), or a new one: found or
    created as a login or an agency's case does."""
    new = who.party
    return await find_or_create_party(db, new.kind, new.name, new.identifier, rename=False)


@dataclass(frozen=True)
class BuiltCase:
    id: int
    code: str
    party_ids: tuple[int, ...]


async def register(db: AsyncSession, agency_id: int, number: str,
                   *parties: Person | Company) -> BuiltCase:
    """The agency registers case ``number`` with ``parties`` (张三 if none), as its API would."""
    case = await cases.register_case(db, agency_id, new_case(number, *(p.party for p in parties)))
    return BuiltCase(case.id, case.code, tuple(p.id for p in await cases.parties(db, case)))


async def register_case(database: Database, agency_id: int, number: str,
                        *parties: Person | Company) -> BuiltCase:
    """``register`` in a transaction of its own."""
    async with transaction(database.sessions) as db:
        return await register(db, agency_id, number, *parties)


@dataclass(frozen=True)
class CaseWorld:
    """张三's case at the market regulator, and another agency that has nothing to do with it."""

    agency_id: int
    other_agency_id: int
    party_id: int
    case_id: int
    case_code: str


async def case_world(database: Database) -> CaseWorld:
    async with transaction(database.sessions) as db:
        market = await agencies.get_or_create_agency(db, MARKET)
        other = await agencies.get_or_create_agency(db, TRANSPORT)
        case = await register(db, market.id, "榕市监处罚〔2026〕1号", ZHANGSAN)
    return CaseWorld(market.id, other.id, case.party_ids[0], case.id, case.code)


@dataclass(frozen=True)
class PageWorld:
    """张三's case with a penalty notice he was informed of two hours ago, and a case of his company."""

    person_case: str
    company_case: str


async def page_world(database: Database) -> PageWorld:
    async with transaction(database.sessions) as db:
        market = (await agencies.get_or_create_agency(db, MARKET)).id
        person = await cases.register_case(db, market, new_case("榕市监处罚〔2026〕101号", ZHANGSAN.party))
        issued, informed = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
        await cases.add_stage_event(db, person, "penalty_notice", {
            **NOTICE, "occurred_at": instant_text(issued), "informed_at": instant_text(informed)},
            "agency:test")
        company = await cases.register_case(db, market, new_case("榕市监处罚〔2026〕87号", COMPANY.party))
    return PageWorld(person.code, company.code)


async def sign_consent(database: Database, party_id: int, *, agency_ids: list[int] | None = None,
                       document_sha256: str = "a" * 64) -> None:
    """The party consents to electronic service (all agencies, or ``agency_ids``). The signed
    document's digest is recorded; the tests that read the document itself store it first."""
    async with transaction(database.sessions) as db:
        await consent.record_consent(
            db, party_id=party_id, signer_person_id=party_id,
            scope=SCOPE_AGENCIES if agency_ids else SCOPE_ALL, agency_ids=agency_ids or [],
            email_copy=None, method="remote_signature", document_sha256=document_sha256,
            actor=f"party:{party_id}", renderer=RENDERER)


async def revoke_consent(database: Database, party_id: int) -> None:
    async with transaction(database.sessions) as db:
        await consent.record_revocation(db, party_id=party_id, signer_person_id=party_id,
                                        document_sha256="b" * 64, actor=f"party:{party_id}",
                                        renderer=RENDERER)


async def deliver(database: Database, blobs: BlobStore, party_id: int, case_id: int,
                  title: str = "榕市监告〔2026〕3号",
                  document_type: str = "行政处罚事先告知书") -> Delivery:
    """A document arrived in the party's mailbox (the agency's seal check is the API's job)."""
    request = deliveries.DeliveryRequest(document_type, title, b"%PDF-1.7 " + title.encode(), None)
    async with transaction(database.sessions) as db:
        case = await db.get(Case, case_id)
        served = await db.get(Party, party_id)
        assert case and served
        return await deliveries.deliver(db, blobs, case=case, party=served, request=request,
                                        fingerprint=hashlib.sha256(request.document).hexdigest(),
                                        actor="agency:1", renderer=RENDERER)


async def sealed_pdf(data_dir: Path, agency_name: str, lines: tuple[str, ...] | None = None, *,
                     form_field: bool = False, code: str | None = None) -> bytes:
    """A decision sealed with the e-seal of ``agency_name`` (with its test credit code, or
    ``code``: another organisation of the same name) from the app's development PKI."""
    from portal.notary import dev_pki_dir, development_services
    from signing import KeySigner, SignatureSettings, async_sign_pdf
    from tests.signing.sample_pdfs import make_pdf

    pki = development_services(dev_pki_dir(data_dir)).dev_pki
    assert pki is not None
    seal = KeySigner.from_credential(pki.agency_seal(agency_name, code or credit_code(agency_name)))
    document = make_pdf(lines=lines, form_field=form_field) if lines else make_pdf(form_field=form_field)
    return await async_sign_pdf(document, seal, SignatureSettings())


@dataclass(frozen=True)
class FineWorld:
    world: CaseWorld
    fine_id: str
    fine_pk: int
    payment_code: str


def today() -> date:
    return china_date(datetime.now(UTC))


async def fine_world(database: Database, *, served_days_ago: int = 3, amount_fen: int = FINE_FEN,
                     number: str = "榕市监罚〔2026〕7号", the_world: CaseWorld | None = None) -> FineWorld:
    """张三's case with a decision served ``served_days_ago`` (stated by the agency) and its fine."""
    w = the_world or await case_world(database)
    async with transaction(database.sessions) as db:
        fine, _ = await fines.create_fine(db, w.agency_id, fines.NewFine(
            decision_number=number, amount_fen=amount_fen,
            collecting_account="福建省财政厅非税收入汇缴结算户", surcharge_applies=True,
            served_on=today() - timedelta(days=served_days_ago), case_code=w.case_code,
            party_key=ZHANGSAN.id_number), actor=f"agency:{w.agency_id}")
        return FineWorld(w, fine.public_id, fine.id, fine.payment_code)
