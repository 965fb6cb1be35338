"""A payment worker that dies (SIGKILL) while sealing a receipt: after the number was taken and
committed, before the sealed PDF is stored. Run as
``python -m tests.portal.workers.crash_worker DATABASE_URL DATA_DIR``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from portal.blobstore.files import FileBlobStore
from portal.database import create_engine, session_factory
from portal.settings import load_settings
from portal.workers import payments as payment_jobs


class DyingSeal:
    async def seal(self, pdf: bytes, placement: object, *, reason: str, location: str | None = None) -> bytes:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    async def seal_ofd(self, ofd: bytes, *, page_id: str = "1",
                       box_mm: tuple[float, float, float, float]) -> bytes:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


async def main(database_url: str, data_dir: str) -> None:
    settings = load_settings({"DATABASE_URL": database_url, "DATA_DIR": data_dir,
                              "PUBLIC_URL": "http://testserver"})
    engine = create_engine(settings.database_url)
    deps = payment_jobs.deps_for(settings, session_factory(engine), DyingSeal(),
                                 FileBlobStore(settings.data_dir / "blobs"))
    await payment_jobs.JOBS.run_due(deps)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
