"""Authorization codes of the embedded development identity provider.

The provider runs in every app process, and the code it issues at the authorize step is
redeemed by a separate back-channel request that may reach another process, so the code
lives here rather than in memory (DESIGN.md, "Scale"). A row is keyed by the code's SHA-256
(the code itself is a bearer secret), lives 60 seconds, and is marked used on its one
redemption, so a replayed code is refused. Expired rows are pruned when new codes are issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class DevIdpCode(Base):
    __tablename__ = "dev_idp_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
