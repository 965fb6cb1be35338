"""Is every document a record names stored, and intact? (``portal blobs check``)

The rows of legal significance name their documents by SHA-256 (``document_sha256``): the
service's documents, consents and revocations, service and submission receipts, attachments,
fiscal receipts. The audit reads each named document from the blob store, which re-checks the
hash, so "intact" means exactly that the bytes are the ones the record was made with. It is the
last step of the backup-and-restore drill (README, "Backup and restore") and of a blob store
migration. Verification reports name the file that was checked but never keep it: they are not
references.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.blobstore import BlobCorrupted, BlobMissing, BlobStore
from portal.database import Base

COLUMN = "document_sha256"
NOT_KEPT = frozenset({"verification_reports"})
"""Tables with a ``document_sha256`` of a file the portal never stored."""


def referencing_columns() -> list[Column[str]]:
    """Every ``document_sha256`` column that names a stored document, by table name."""
    tables: list[Table] = sorted(Base.metadata.tables.values(), key=lambda t: t.name)
    return [table.c[COLUMN] for table in tables if COLUMN in table.c and table.name not in NOT_KEPT]


@dataclass
class AuditReport:
    references: dict[str, int] = field(default_factory=dict)
    """Rows per table that name a document."""
    documents: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)
    corrupted: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupted


async def audit(db: AsyncSession, store: BlobStore, *,
                progress: Callable[[int], None] | None = None) -> AuditReport:
    """Read every document named by any row through ``store``; report what is missing or
    damaged, each digest with the tables that name it."""
    report = AuditReport()
    named_by: dict[str, list[str]] = {}
    for column in referencing_columns():
        digests = list((await db.execute(select(column))).scalars())
        report.references[column.table.name] = len(digests)
        for digest in digests:
            named_by.setdefault(digest, []).append(column.table.name)
    for digest, tables in sorted(named_by.items()):
        try:
            await store.get(digest)
        except BlobMissing:
            report.missing[digest] = sorted(set(tables))
        except BlobCorrupted:
            report.corrupted[digest] = sorted(set(tables))
        report.documents += 1
        if progress is not None:
            progress(report.documents)
    return report
