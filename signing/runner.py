"""Running ``verify_pdf`` off the event loop, in worker processes with hard limits.

A hostile PDF must not take the server down (SECURITY.md, "Uploads and PDFs"). So the
verification of an uploaded file runs in a separate process of a ``ProcessPoolExecutor``:

* memory: the worker initializer sets ``RLIMIT_AS``; an allocation past it raises
  ``MemoryError`` in the worker (reported as too complex) or kills the worker;
* time: each job arms ``ITIMER_REAL`` in the worker, whose handler raises ``BudgetExceeded``
  between two bytecodes; for code that does not return to the interpreter in time (a long C
  call) the parent waits a grace period longer and then kills the pool's processes and starts a
  fresh pool;
* a dead worker (``BrokenProcessPool``) breaks the whole pool: it is rebuilt and the
  verification retried once, so a crash caused by one file (or by a kill from outside) costs
  the others nothing; a file that kills its worker twice is reported as too complex.

Every way out gives a ``VerificationReport``; an over-budget file reads
"文件过于复杂，无法在限定时间内验证". Workers are forked from a forkserver that has
``signing.verify`` preloaded, so replacing a pool is cheap.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import FrameType, TracebackType

from signing.report import FileProblem, VerificationReport
from signing.verdict import file_problem_report
from signing.verify import BudgetExceeded, VerificationContext, verify_pdf

__all__ = ["VerificationRunner"]

logger = logging.getLogger(__name__)
_GRACE_SECONDS = 2.0


def _init_worker(memory_limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    signal.signal(signal.SIGALRM, _on_alarm)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BudgetExceeded


def _verify_in_worker(data: bytes, context: VerificationContext, budget: float) -> VerificationReport:
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        return verify_pdf(data, context)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _too_complex(data: bytes) -> VerificationReport:
    return file_problem_report(data, FileProblem.TOO_COMPLEX)


class VerificationRunner:
    """Verifies PDFs in worker processes; use as ``async with VerificationRunner(ctx) as r``."""

    def __init__(
        self,
        context: VerificationContext,
        *,
        workers: int = 2,
        time_budget: float = 20.0,
        memory_limit: int = 1536 * 1024 * 1024,
    ) -> None:
        self.context = context
        self.workers = workers
        self.time_budget = time_budget
        self.memory_limit = memory_limit
        self._mp_context = multiprocessing.get_context("forkserver")
        self._mp_context.set_forkserver_preload(["signing.verify"])
        self._pool = self._new_pool()
        self._generation = 0

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._mp_context,
            initializer=_init_worker,
            initargs=(self.memory_limit,),
            max_tasks_per_child=200,
        )

    async def verify(self, data: bytes) -> VerificationReport:
        """Verify ``data`` within the budget; always returns a report."""
        for _attempt in range(2):
            generation = self._generation
            try:
                future = self._pool.submit(_verify_in_worker, data, self.context, self.time_budget)
                return await asyncio.wait_for(
                    asyncio.wrap_future(future), timeout=self.time_budget + _GRACE_SECONDS
                )
            except TimeoutError:
                logger.warning("verification over budget; recycling the worker pool")
                self._recycle(generation)
                return _too_complex(data)
            except BrokenProcessPool:
                # A worker died (this file, another one, or an outside kill): new pool, one retry.
                logger.warning("a verification worker died; recycling the worker pool")
                self._recycle(generation)
            except (Exception, BudgetExceeded):
                # The alarm went off just as the job finished, or pickling failed.
                logger.warning("verification worker raised", exc_info=True)
                return _too_complex(data)
        return _too_complex(data)

    def _recycle(self, generation: int) -> None:
        if generation != self._generation:
            return
        old = self._pool
        self._generation += 1
        self._pool = self._new_pool()
        # ProcessPoolExecutor cannot cancel a running job; its processes are killed instead.
        for process in list(getattr(old, "_processes", {}).values()):
            process.kill()
        old.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> VerificationRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)
