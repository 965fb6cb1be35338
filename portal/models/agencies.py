"""Agencies (application units) and their machine-to-machine API credentials.

An agency is a legal person: its unified social credit code (``credit_code``, GB 32100-2015)
is what its e-seal certificate names and what a served document's seal is matched by
(``portal.eservice.seals``); its name may change with a reorganisation, the code does not.

Each agency has one or more OAuth2 clients (client credentials grant). Secrets and tokens are
stored only as SHA-256 digests: a leaked database does not leak working credentials.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    """None only for agencies created before codes were recorded: they cannot serve documents."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiClient(Base):
    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.client_id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    scope: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
