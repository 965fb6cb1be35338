"""Cases as agencies register them: the case, its parties and its enforcement officers.

What happens in a case (filed, notice of proposed penalty, hearing, decision, remedies,
closure) is not a column here: those are events appended to the case's evidence chain
(``case:<id>``), so a case's history can only grow. ``code`` is the printable case code
(``portal.cases.codes``); ``matter`` (案由) may name people and is shown to parties only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("agency_id", "agency_case_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_case_number: Mapped[str] = mapped_column(String(100))
    case_type: Mapped[str] = mapped_column(String(40))
    matter: Mapped[str] = mapped_column(String(500))
    hearing_right: Mapped[bool] = mapped_column(Boolean)
    electronic_monitoring: Mapped[bool] = mapped_column(Boolean)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseParty(Base):
    __tablename__ = "case_parties"
    __table_args__ = (UniqueConstraint("case_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseOfficer(Base):
    __tablename__ = "case_officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    credential_number: Mapped[str] = mapped_column(String(50))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
