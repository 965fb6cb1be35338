"""Rows the e-service tests start from: an agency, a case with its party, a consent, a
delivered document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.blobstore import BlobStore
from portal.cases import codes as case_codes
from portal.database import transaction, utcnow
from portal.identifiers import uscc_check_char
from portal.models.cases import Case, CaseParty
from portal.models.eservice import Delivery
from portal.models.parties import Party
from portal.services import agencies, consent, deliveries, outbox
from portal.vocabulary import PERSON, SCOPE_AGENCIES, SCOPE_ALL
from tests.conftest import Database

RENDERER = outbox.renderer_for("http://testserver")


@dataclass(frozen=True)
class World:
    agency_id: int
    other_agency_id: int
    party_id: int
    case_id: int
    case_code: str


async def make_case(db: AsyncSession, agency_id: int, party_ids: list[int], number: str) -> Case:
    case = Case(code=case_codes.new_code(), agency_id=agency_id, agency_case_number=number,
                case_type="行政处罚", matter="未按规定公示年度报告", hearing_right=True,
                electronic_monitoring=False, registered_at=utcnow())
    db.add(case)
    await db.flush()
    for party_id in party_ids:
        db.add(CaseParty(case_id=case.id, party_id=party_id, added_at=utcnow()))
    await db.flush()
    return case


async def make_person(db: AsyncSession, name: str, id_number: str) -> Party:
    """The person with this ID number (e.g. created by a login), or a new one."""
    existing = (await db.execute(select(Party).where(Party.id_number == id_number))).scalar_one_or_none()
    if existing is not None:
        return existing
    person = Party(kind=PERSON, name=name, id_number=id_number, created_at=utcnow())
    db.add(person)
    await db.flush()
    return person


async def world(database: Database) -> World:
    async with transaction(database.sessions) as db:
        agency = await agencies.get_or_create_agency(db, "福州市市场监督管理局")
        other = await agencies.get_or_create_agency(db, "福州市交通运输局")
        person = await make_person(db, "张三", "35010219850312123X")
        case = await make_case(db, agency.id, [person.id], "榕市监处罚〔2026〕1号")
        return World(agency.id, other.id, person.id, case.id, case.code)


async def sign_consent(database: Database, party_id: int, *, agency_ids: list[int] | None = None,
                       document_sha256: str = "a" * 64) -> None:
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
        party = await db.get(Party, party_id)
        assert case and party
        return await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                                        fingerprint=hashlib.sha256(request.document).hexdigest(),
                                        actor="agency:1", renderer=RENDERER)


_CREDIT_CODE_PREFIXES = {"福州市市场监督管理局": "11350100MB0000001", "厦门市交通运输局": "11350200MB0000002"}


def credit_code(agency_name: str) -> str:
    """A test agency's unified social credit code (its development seal carries it); names
    without one of their own get one derived from the name."""
    prefix = _CREDIT_CODE_PREFIXES.get(agency_name)
    if prefix is None:
        prefix = "113501" + str(int(hashlib.sha256(agency_name.encode()).hexdigest(), 16))[:8] + "MB0"
    return prefix + uscc_check_char(prefix)


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
