"""Demo e-service for ``make run``: the company has consented and a decision sits in its mailbox.

福州示例科技有限公司's agent 李四 (``lisi``) signed the e-service confirmation with his
remote-signing key, and the demo agency served its sealed penalty decision on the company
through the same service the API uses: log in as ``lisi`` to see the mailbox item, its service
time, the deadlines it started, the 5,000 yuan fine it made payable (我的罚款) and, once the
background worker has run (seconds), its sealed service receipt. 张三 (``zhangsan``) has not
consented yet, so a newcomer can sign one. Everything is recorded through the real services,
so the evidence chains verify.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.blobstore import open_blob_store
from portal.catalogue import CONSENT
from portal.catalogue.regulations import regulation
from portal.database import engine_of, get_existing, transaction, utcnow
from portal.dev_idp import provider as dev_idp
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.documents.consent_confirmation import render_confirmation
from portal.documents.pdf import CjkDocument
from portal.errors import ConfigurationError
from portal.legal_calendar import china_date
from portal.models.parties import Party
from portal.notary import Notary
from portal.services import (
    cases,
    consent,
    consent_documents,
    deliveries,
    identity,
    outbox,
    party_keys,
    served_fines,
)
from portal.settings import Settings
from portal.vocabulary import SCOPE_ALL
from signing import KeySigner, SignatureSettings, async_sign_pdf

DECISION_LINES = (
    "行政处罚决定书",
    "当事人：福州示例科技有限公司",
    "违法事实：未按规定的期限公示上一年度年度报告。",
    "处罚决定：罚款人民币伍仟元整（5000.00元）。",
    "请于收到本决定书之日起十五日内缴纳罚款。",
)


def _decision_pdf(case_number: str) -> bytes:
    document = CjkDocument("行政处罚决定书", created_at=utcnow())
    document.heading("福州市市场监督管理局 行政处罚决定书")
    document.paragraph(f"案号：{case_number}")
    for line in DECISION_LINES[1:]:
        document.paragraph(line)
    return document.output()


async def seed_eservice(settings: Settings, sessions: async_sessionmaker[AsyncSession], notary: Notary,
                        agency_id: int, agency_name: str, credit_code: str, case_code: str) -> None:
    """Consent for the company (signed by its agent) and its served decision in the mailbox."""
    agent = DEMO_IDENTITIES[1]
    renderer = outbox.renderer_for(settings.public_url)
    blobs = open_blob_store(settings.blobs, engine_of(sessions))
    try:
        services = await notary.services()
        if services.dev_pki is None:
            raise ConfigurationError("the demo runs on the development PKI")
        async with transaction(sessions) as db:
            login = await identity.record_login(db, dev_idp.issuer(settings), agent.claims())
            company = login.organisations[0]
            person = await get_existing(db, Party, login.person.id)
            signer = await party_keys.signer_for(db, person, services.dev_pki,
                                                 settings.secret_key.encode())
            content = await consent_documents.confirmation_content(
                db, acting_party_id=company.id, signer_person_id=person.id, agency_ids=[],
                email_copy=None, on=china_date(utcnow()),
                regulation=regulation(settings.service_desk.province))
            case = await cases.case_for_agency(db, agency_id, case_code)
        pdf, placement = await asyncio.to_thread(render_confirmation, content, created_at=utcnow())
        signed = await consent_documents.sign_as(notary, signer, pdf, placement,
                                                 CONSENT["signature_reason"])
        seal = KeySigner.from_credential(services.dev_pki.agency_seal(agency_name, credit_code))
        decision = await async_sign_pdf(await asyncio.to_thread(_decision_pdf, case.agency_case_number),
                                        seal, SignatureSettings())
        async with transaction(sessions) as db:
            await consent.record_consent(
                db, party_id=company.id, signer_person_id=person.id, scope=SCOPE_ALL, agency_ids=[],
                email_copy=None, method="remote_signature", document_sha256=await blobs.put(signed),
                actor=f"person:{person.id} for party:{company.id}", renderer=renderer)
        async with transaction(sessions) as db:
            party = await get_existing(db, Party, company.id)
            title = f"{case.agency_case_number} 行政处罚决定书"
            request = deliveries.DeliveryRequest("行政处罚决定书", title, decision, "demo-decision")
            await deliveries.deliver(db, blobs, case=case, party=party, request=request,
                                     fingerprint=request.fingerprint(case.code, party.credit_code or ""),
                                     actor="agency:demo", renderer=renderer)
            await served_fines.make_payable(db, case)  # as the agency API does after a delivery
    finally:
        await blobs.aclose()
