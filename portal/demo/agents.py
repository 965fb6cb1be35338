"""A demo agent for ``make run`` (APL art. 64(3): a party may be represented).

张三 (``zhangsan``) authorised his lawyer 陈静 to act for him for a year and signed the power of
attorney (授权委托书) with his remote-signing key: he sees it under 我的账户 → 授权他人代为办理,
and the demo agency sees her, with the signed PDF, in ``GET /api/v1/cases/{code}`` of his case
(``representatives``). Recorded through the services the pages use, so the chains verify.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.blobstore import open_blob_store
from portal.catalogue import DELEGATION
from portal.database import engine_of, transaction, utcnow
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.documents.authorisation import render_authorisation
from portal.identifiers import id_number_check_char
from portal.legal_calendar import china_date
from portal.models.parties import Party
from portal.notary import Notary
from portal.services import authorisations, consent_documents, delegations, party_keys
from portal.settings import Settings
from portal.vocabulary import SCOPE_FULL

LAWYER = "陈静"
LAWYER_ID = "35010219880516002" + id_number_check_char("35010219880516002")


async def seed_agents(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                      notary: Notary) -> None:
    person = DEMO_IDENTITIES[0]
    blobs = open_blob_store(settings.blobs, engine_of(sessions))
    try:
        services = await notary.services()
        if services.dev_pki is None:
            raise RuntimeError("the demo signs with the development PKI")
        async with transaction(sessions) as db:
            principal = (await db.execute(select(Party).where(Party.id_number == person.id_number))
                         ).scalar_one()
            granted = await delegations.grant(
                db, principal_id=principal.id, delegate_name=LAWYER, delegate_id_number=LAWYER_ID,
                scope=SCOPE_FULL, last_day=china_date(utcnow()) + timedelta(days=365),
                granted_by_person_id=principal.id, actor=f"party:{principal.id}")
            content = await authorisations.content(db, principal_id=principal.id,
                                                   delegation_id=granted.id, signer_person_id=principal.id)
            signer = await party_keys.signer_for(db, principal, services.dev_pki,
                                                 settings.secret_key.encode())
        pdf, placement = await asyncio.to_thread(render_authorisation, content, created_at=utcnow())
        signed = await consent_documents.sign_as(notary, signer, pdf, placement,
                                                 DELEGATION["authorisation.signature_reason"])
        digest = await blobs.put(signed)
        async with transaction(sessions) as db:
            await authorisations.record(db, principal_id=principal.id, delegation_id=granted.id,
                                        signer_person_id=principal.id, document_sha256=digest,
                                        actor=f"party:{principal.id}")
    finally:
        await blobs.aclose()
