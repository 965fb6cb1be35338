"""Remote signing keys of natural persons (the e-service confirmation is signed with them).

A person's key is created on first use, after an OIDC login, certified by the party CA, and
stored with its private key encrypted under a key derived from the portal's secret
(``signing.create_party_key``): a copy of the database alone signs nothing. The person signs
through the portal only while logged in, and only what the portal shows them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.models.eservice import PartyKey as PartyKeyRow
from portal.models.parties import Party
from signing import KeySigner, PartyCertificateIssuer, PartyKey, create_party_key, load_party_signer


def _stored(row: PartyKeyRow) -> PartyKey:
    return PartyKey(certificate=row.certificate_der, chain=tuple(bytes.fromhex(c) for c in row.chain_der),
                    encrypted_private_key=row.encrypted_key_pem, salt=row.salt, pseudonym=row.pseudonym)


async def signer_for(db: AsyncSession, person: Party, issuer: PartyCertificateIssuer,
                     secret: bytes) -> KeySigner:
    """The person's signer, creating (and storing) their key the first time."""
    row = (await db.execute(select(PartyKeyRow).where(PartyKeyRow.person_id == person.id))
           ).scalar_one_or_none()
    if row is None:
        key = create_party_key(issuer, person.name, f"party:{person.id}", secret)
        row = PartyKeyRow(person_id=person.id, certificate_der=key.certificate,
                          chain_der=[der.hex() for der in key.chain],
                          encrypted_key_pem=key.encrypted_private_key, salt=key.salt,
                          pseudonym=key.pseudonym, created_at=utcnow())
        db.add(row)
        await db.flush()
    return load_party_signer(_stored(row), secret)
