"""Copying blobs from one store to another: ``portal blobs migrate``.

Used once when a node moves from files under ``DATA_DIR/blobs`` to the database or an S3
store, and safe to run again (blobs already in the target are skipped; a copy interrupted half
way is finished by the next run). Every blob is read through the source's hash check, so a
damaged file is reported and never copied under a name it no longer matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from portal.blobstore import BlobCorrupted, BlobMissing, BlobStore


@dataclass
class TransferReport:
    copied: int = 0
    present: int = 0
    damaged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damaged


async def copy_blobs(source: BlobStore, target: BlobStore, *,
                     progress: Callable[[TransferReport], None] | None = None) -> TransferReport:
    """Copy every blob of ``source`` missing from ``target``; ``progress`` is called after each."""
    report = TransferReport()
    async for digest in source.digests():
        if await target.has(digest):
            report.present += 1
        else:
            try:
                data = await source.get(digest)
            except (BlobCorrupted, BlobMissing):
                report.damaged.append(digest)
                continue
            await target.put(data)
            report.copied += 1
        if progress is not None:
            progress(report)
    return report
