"""Running ``verify_document`` (PDF or OFD) off the event loop, in worker processes with limits.

A hostile PDF must not take the server down (SECURITY.md, "Uploads and PDFs"). So the
verification of an uploaded file runs in a separate process, one of at most ``workers``:

* memory: the worker sets ``RLIMIT_AS`` when it starts; an allocation past it raises
  ``MemoryError`` in the worker (reported as too complex) or kills the worker;
* time: each job arms ``ITIMER_REAL`` in the worker, whose handler raises ``BudgetExceeded``
  between two bytecodes; for code that does not return to the interpreter in time (a long C
  call) the event loop waits a grace period longer and then kills that worker (the others
  and their jobs are untouched; a new worker is started when one is needed);
* a worker that dies (the file, or a kill from outside) costs only its own job, which is
  retried once in another worker; a file that kills its worker twice is reported as too
  complex.

Every way out gives a ``VerificationReport``; an over-budget file reads
"文件过于复杂，无法在限定时间内验证". Workers are forked from a forkserver that has
``signing.documents`` preloaded, so starting one is cheap, and each is replaced after
``_JOBS_PER_WORKER`` jobs.

Each worker talks to the event loop over a socket of its own: the loop writes the job
(pickled context and budget, then the file's bytes) and reads the pickled report back itself,
with nothing in between. (``ProcessPoolExecutor`` hands each job and each result across
three threads — a feeder, a manager, the loop — which cost about a millisecond per
verification, 5–10% of verifying a small sealed file.) An idle worker waits in a blocking
read; the most recently used one is given the next job, its caches warm. Waiting for a free
worker is not counted against a file's budget. A runner serves one event loop at a time.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType, TracebackType

from signing.documents import verify_document
from signing.report import FileProblem, VerificationReport
from signing.verdict import file_problem_report
from signing.verify import BudgetExceeded, VerificationContext
from signing.worker_logs import configure_worker_logging

__all__ = ["VerificationRunner"]

logger = logging.getLogger(__name__)
_GRACE_SECONDS = 2.0
_JOBS_PER_WORKER = 200
_SIZE = struct.Struct("!i")
"""The length prefix of a message, as ``multiprocessing.connection.Connection`` frames it
(the worker reads and writes through one; messages stay below 2 GiB)."""


def _init_worker(memory_limit: int) -> None:
    configure_worker_logging()  # JSON, nothing from the file (signing.worker_logs)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    signal.signal(signal.SIGALRM, _on_alarm)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BudgetExceeded


def _verify_in_worker(data: bytes, context: VerificationContext, budget: float) -> VerificationReport:
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        return verify_document(data, context)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _too_complex(data: bytes) -> VerificationReport:
    return file_problem_report(data, FileProblem.TOO_COMPLEX)


def _serve(connection: Connection, memory_limit: int) -> None:
    """A worker's life: read a job, answer its report, until the runner closes the socket."""
    _init_worker(memory_limit)
    while True:
        try:
            context, budget = pickle.loads(connection.recv_bytes())  # noqa: S301 (from the runner)
            data = connection.recv_bytes()
        except EOFError:
            return
        try:
            answer = pickle.dumps(_verify_in_worker(data, context, budget))
        except (Exception, BudgetExceeded):  # the alarm went off just as the job finished
            answer = pickle.dumps(_too_complex(data))
        connection.send_bytes(answer)


@dataclass
class _Worker:
    process: BaseProcess
    channel: socket.socket
    """The event loop's end of the worker's socket (non-blocking)."""
    jobs: int = 0


class _WorkerLost(Exception):
    """The worker's socket closed or broke mid-job: the worker is dead or dying."""


class VerificationRunner:
    """Verifies PDFs in worker processes; use as ``async with VerificationRunner(ctx) as r``."""

    def __init__(
        self,
        context: VerificationContext,
        *,
        workers: int = 2,
        time_budget: float = 20.0,
        memory_limit: int = 1536 * 1024 * 1024,
        on_worker_lost: Callable[[str], None] | None = None,
    ) -> None:
        """``on_worker_lost`` hears of each worker process lost mid-job, with the reason:
        ``died`` (it ended), ``over_budget`` (killed past the time budget) or ``failed``."""
        self.context = context
        self.on_worker_lost = on_worker_lost
        self.workers = workers
        self.time_budget = time_budget
        self.memory_limit = memory_limit
        self._mp_context = multiprocessing.get_context("forkserver")
        self._mp_context.set_forkserver_preload(["signing.documents"])
        self._idle: list[_Worker] = []
        self._busy = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def verify(self, data: bytes) -> VerificationReport:
        """Verify ``data`` within the budget; always returns a report."""
        for _attempt in range(2):
            try:
                worker = await self._acquire()
            except Exception:
                logger.warning("no verification worker could be started", exc_info=True)
                return _too_complex(data)
            try:
                report = await asyncio.wait_for(self._exchange(worker, data),
                                                timeout=self.time_budget + _GRACE_SECONDS)
            except TimeoutError:
                logger.warning("verification over budget; killing its worker")
                self._lost("over_budget")
                self._discard(worker)
                return _too_complex(data)
            except _WorkerLost:
                # This file, or a kill from outside: a new worker, one retry.
                logger.warning("a verification worker died; retrying in another")
                self._lost("died")
                self._discard(worker)
                continue
            except Exception:
                logger.warning("verification worker failed", exc_info=True)
                self._lost("failed")
                self._discard(worker)
                return _too_complex(data)
            except BaseException:  # cancelled mid-job: the worker's answer would be stale
                self._discard(worker)
                raise
            self._release(worker)
            return report
        return _too_complex(data)

    def _lost(self, reason: str) -> None:
        if self.on_worker_lost is not None:
            self.on_worker_lost(reason)

    async def _exchange(self, worker: _Worker, data: bytes) -> VerificationReport:
        loop = asyncio.get_running_loop()
        job = pickle.dumps((self.context, self.time_budget))
        try:
            await loop.sock_sendall(worker.channel, _SIZE.pack(len(job)) + job + _SIZE.pack(len(data)))
            await loop.sock_sendall(worker.channel, data)
            (size,) = _SIZE.unpack(await _receive(loop, worker.channel, _SIZE.size))
            answer = await _receive(loop, worker.channel, size)
        except OSError as exc:  # EPIPE, ECONNRESET
            raise _WorkerLost from exc
        worker.jobs += 1
        report = pickle.loads(answer)  # noqa: S301 (our worker's, as ProcessPoolExecutor did)
        assert isinstance(report, VerificationReport)
        return report

    async def _acquire(self) -> _Worker:
        while not self._idle and self._busy >= self.workers:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
        self._busy += 1
        if self._idle:
            return self._idle.pop()
        try:
            return self._start_worker()
        except BaseException:
            self._busy -= 1
            self._wake()
            raise

    def _start_worker(self) -> _Worker:
        ours, theirs = self._mp_context.Pipe()
        process = self._mp_context.Process(target=_serve, args=(theirs, self.memory_limit),
                                           name="pdf-verification", daemon=True)
        process.start()
        theirs.close()
        channel = socket.socket(fileno=os.dup(ours.fileno()))
        ours.close()
        channel.setblocking(False)
        return _Worker(process, channel)

    def _release(self, worker: _Worker) -> None:
        self._busy -= 1
        if self._closed or worker.jobs >= _JOBS_PER_WORKER:
            worker.channel.close()  # the worker reads the end of its socket and exits
        else:
            self._idle.append(worker)
        self._wake()

    def _discard(self, worker: _Worker) -> None:
        self._busy -= 1
        worker.channel.close()
        worker.process.kill()
        worker.process.join(timeout=1.0)
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Stop the idle workers (a busy one stops when its job is done)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for worker in idle:
            worker.channel.close()
        for worker in idle:
            worker.process.join(timeout=5.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    async def __aenter__(self) -> VerificationRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)


async def _receive(loop: asyncio.AbstractEventLoop, channel: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = await loop.sock_recv_into(channel, view[received:])
        if count == 0:
            raise _WorkerLost
        received += count
    return bytes(buffer)
