"""Server-side browser sessions.

The cookie carries only a signed random token; the row is keyed by the token's SHA-256, so
logout (``ended_at``) invalidates the session on the server, not only in the browser
(ASVS v5.0.0-7.4.1). Rows exist only once a session holds data (a login in progress or done).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FormDraft(Base):
    """What a person typed into a legal act's form that could not be filed yet because a fresh
    login was needed (``portal.web.form_drafts``): held for that person and that form only,
    shown again after the login, deleted when the form is filed or a day after it was kept
    (``services.housekeeping``). Not a record: nothing was filed."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("person_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    acting_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    path: Mapped[str] = mapped_column(String(300))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class FormDraftFile(Base):
    """An attachment of a draft that passed the attachment checks, so the person need not
    choose it again; its bytes live here, not in the blob store, and go with the draft."""

    __tablename__ = "form_draft_files"
    __table_args__ = (UniqueConstraint("draft_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("form_drafts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
