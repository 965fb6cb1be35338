"""Documents stored in the database itself (``BLOB_STORE=database``, the default on PostgreSQL).

One row per distinct content, keyed by its SHA-256: the rows of legal significance
(deliveries, consents, receipts, submissions) name a document by this hash, so a dump or a
replica of the database carries each document with the evidence about it. Rows are never
changed or removed (a PostgreSQL trigger refuses UPDATE and DELETE); the column is stored
uncompressed, as PDFs already are compressed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import Base, UTCDateTime


class StoredBlob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
