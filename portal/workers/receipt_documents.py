"""A fiscal e-receipt's documents, rendered and sealed: in the worker's process, or in processes
of their own that use every core (``ReceiptPool``).

Making a receipt's documents is CPU work in Python, some hundreds of milliseconds: fpdf2 lays
out the page and subsets the Chinese font, the QR code is drawn, pyHanko seals the PDF at
PAdES B-LT and the GB/T 38540 seal signs the OFD (with the development PKI the TSA answers in
process too). Threads of one process take turns on one core, so more worker loops issued no
more receipts per second. ``ReceiptPool`` makes the documents in ``RECEIPT_PROCESSES`` worker
processes; the payment worker's event loop keeps all of the database work (the number under
the counter lock, the storage, the ``receipt_issued`` event) and only awaits the bytes.

Each process sets up what it seals with once, when it starts (its own ``Notary`` from the
settings: the development PKI, or the production seal with an HSM token session of its own;
the font face is parsed at its first receipt), so every receipt after that pays for its own
rendering and sealing only. Subsetting the font, half of a receipt's rendering, costs a third
of that from a process's ``COMMON_CUT_AFTER``-th receipt on, for a receipt in everyday
characters (``payments.receipt_pdf.prepare_common_glyphs``, the same bytes): cutting the font
costs seconds of CPU once, which a process that renders a few receipts (``portal worker
--once``, a test) never pays, and the cut is kept in ``DATA_DIR/cache/fonts``, where every
later process finds it when it starts. Processes are started with ``spawn``: the worker's
event loop, threads and database connections are not copied into them.

A process that dies mid-receipt (killed, out of memory) loses nothing and duplicates nothing:
the receipt's number was committed before rendering started and its documents are recorded
only afterwards, once (``services.fiscal_receipts``). The pool is replaced and the receipt
made once more in a new process; a receipt whose process dies twice raises
``RenderProcessLost``, which postpones its job (``workers.payments``): it comes back after
the back-off, its number unchanged. A process that hangs (a TSA that accepts the connection
and never answers past its client's timeout, a deadlock in a library) ends itself after
``RENDER_TIME_LIMIT``, its stack written to its stderr, and counts as one that died: a hung
process would otherwise hold its payment loop, and every receipt queued behind it, forever.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

import payments
from payments.catalogue import RECEIPT
from payments.receipt_pdf import prepare_common_glyphs, qr_png
from portal.catalogue import PAYMENTS
from portal.documents.pdf import cjk_font
from portal.logs import configure_logging
from portal.notary import Notary
from portal.settings import Settings
from signing import SealPlacement
from signing.ofd_build import OfdImage, build_ofd, line_top_mm

__all__ = ["COMMON_CUT_AFTER", "QR_BOX_MM", "RENDER_TIME_LIMIT", "SEAL_PLACEMENT", "ReceiptPool",
           "RenderProcessLost", "Sealer", "font_cache_dir", "sealed_documents"]

SEAL_PLACEMENT = SealPlacement(page=0, box=(415.0, 330.0, 535.0, 450.0))
"""Over the issuing unit's line of `payments.render_receipt_pdf`'s A4 layout, in PDF points."""
QR_BOX_MM = (165.0, 10.0, 30.0, 30.0)
"""The OFD's QR code to ``/receipts/verify``: top right, beside the title, as on the PDF."""

COMMON_CUT_AFTER = 20
"""Receipts a process renders before it cuts the font to its common glyphs (when no earlier
process left the cut in ``font_cache_dir``)."""

RENDER_TIME_LIMIT = 120.0
"""Seconds a process may spend on one receipt before it ends itself. A receipt takes under
3 s even on a loaded machine, each TSA request gives up after 10 s, and cutting the font
(once per process, see above) takes seconds: two minutes is only ever reached by a hang."""

log = logging.getLogger("portal.workers.payments")


def font_cache_dir(settings: Settings) -> Path:
    """Where the font's common cut is kept for the processes that come after."""
    return settings.data_dir / "cache" / "fonts"


class Sealer(Protocol):
    """What sealing a receipt needs of ``portal.notary.Notary`` (a stub in numbering tests)."""

    async def seal(self, pdf: bytes, placement: SealPlacement | None, *, reason: str,
                   location: str | None = None) -> bytes: ...

    async def seal_ofd(self, ofd: bytes, *, page_id: str = "1",
                       box_mm: tuple[float, float, float, float]) -> bytes: ...


class RenderProcessLost(Exception):
    """A receipt's rendering process died (or hung) twice in a row: its job is postponed."""


async def sealed_documents(notary: Sealer, receipt: payments.Receipt, url: str,
                           formats: tuple[str, ...], font: Path) -> dict[str, bytes]:
    """The receipt's sealed documents by format (``pdf``, ``ofd``), ``url`` in their QR codes."""
    qr_code = await asyncio.to_thread(qr_png, url)  # one QR code for both documents
    documents = {}
    for name in formats:
        if name == "pdf":
            documents[name] = await _sealed_pdf(notary, receipt, url, font, qr_code)
        else:
            documents[name] = await _sealed_ofd(notary, receipt, url, qr_code)
    return documents


async def _sealed_pdf(notary: Sealer, receipt: payments.Receipt, url: str, font: Path,
                      qr_code: bytes) -> bytes:
    unsealed = await asyncio.to_thread(payments.render_receipt_pdf, receipt, url, font,
                                       qr_code=qr_code)
    return await notary.seal(unsealed, SEAL_PLACEMENT, reason=PAYMENTS["seal_reason"])


async def _sealed_ofd(notary: Sealer, receipt: payments.Receipt, url: str, qr_code: bytes) -> bytes:
    """The OFD, its 40 mm stamp centred over the issuing unit's line."""
    title, lines = payments.receipt_lines(receipt, url)
    unsealed = build_ofd(title, lines, created=receipt.issued_at_china.date(),
                         images=[OfdImage(qr_code, QR_BOX_MM)],
                         attachments={payments.ATTACHMENT_NAME: payments.receipt_json(receipt)})
    issuer_top = line_top_mm(title, lines, lines.index(f"{RECEIPT['issuer']}：{receipt.issuer}"))
    return await notary.seal_ofd(unsealed, box_mm=(130.0, issuer_top - 16, 40.0, 40.0))


class _Process:
    """What one rendering process holds for its life: its own notary and event loop."""

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level)
        self.notary = Notary.from_settings(settings)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.notary.start())
        self.font = cjk_font()[0]
        self.cache = font_cache_dir(settings)
        self.cut = prepare_common_glyphs(self.font, self.cache, cut=False)
        self.rendered = 0

    def documents(self, receipt_json: bytes, url: str, formats: tuple[str, ...]) -> dict[str, bytes]:
        receipt = payments.receipt_from_json(receipt_json)
        sealed = self.loop.run_until_complete(sealed_documents(self.notary, receipt, url, formats, self.font))
        self.rendered += 1
        if not self.cut and self.rendered >= COMMON_CUT_AFTER:
            self.cut = prepare_common_glyphs(self.font, self.cache)
        return sealed


_process: _Process | None = None


def _start_process(settings: Settings) -> None:
    global _process  # the one of this process, set when it starts
    _process = _Process(settings)


def render(receipt_json: bytes, url: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    """A job of the pool, run in one of its processes."""
    if _process is None:
        raise RuntimeError("not a receipt rendering process")
    return _process.documents(receipt_json, url, formats)


Render = Callable[[bytes, str, tuple[str, ...]], dict[str, bytes]]
"""A pool job: a module-level function (pickled by name), ``render`` but in tests."""


def _within(seconds: float, job: Render, receipt_json: bytes, url: str,
            formats: tuple[str, ...]) -> dict[str, bytes]:
    """``job`` in a pool process that ends itself (exit status 1, its threads' stacks on
    stderr) if the job takes more than ``seconds``: ``faulthandler``'s watchdog is a thread of
    its own in C, so it fires whatever the job holds, the GIL or a blocking call."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        return job(receipt_json, url, formats)
    finally:
        faulthandler.cancel_dump_traceback_later()


class ReceiptPool:
    """Renders and seals receipts in ``processes`` processes, started when first needed; one
    per worker process, shared by its payment loops. ``close()`` stops them."""

    def __init__(self, settings: Settings, processes: int, *, job: Render = render,
                 time_limit: float = RENDER_TIME_LIMIT) -> None:
        if processes < 1:
            raise ValueError("a receipt pool needs at least one process")
        self.settings = settings
        self.processes = processes
        self._job = job
        self._time_limit = time_limit
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    async def documents(self, receipt: payments.Receipt, url: str,
                        formats: tuple[str, ...]) -> dict[str, bytes]:
        """The receipt's sealed documents by format, made in one of the processes; errors of
        rendering and sealing (a TSA down, say) are raised here as they were raised there."""
        data = payments.receipt_json(receipt)
        for _attempt in range(2):
            executor = self._pool()
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    executor, _within, self._time_limit, self._job, data, url, formats)
            except BrokenProcessPool:
                log.warning("a receipt rendering process died or overran its time limit; rendering "
                            "the receipt again in a new one", extra={"job": "fiscal_receipt"})
                self._discard(executor)
        raise RenderProcessLost(f"receipt {receipt.code}-{receipt.number}: its rendering process died twice")

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the receipt pool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_process, initargs=(self.settings,))
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        """Forget a broken pool (once, whichever of its jobs notices first); the next job
        starts a new one."""
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the processes after the receipts they are making; blocking (run it in a thread)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
