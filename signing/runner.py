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
preloaded what they import (``_preloaded``), so starting one is cheap, and each is replaced
after ``_JOBS_PER_WORKER`` jobs. Inside a worker, the verifiers' coroutines run on one asyncio
loop kept for all its jobs (``signing.event_loop.kept_loop``), not a new loop per document.

Each worker talks to the event loop over a socket of its own: the loop writes the job
(pickled context and budget, then the file's bytes) and reads the pickled report back itself,
with nothing in between. (``ProcessPoolExecutor`` hands each job and each result across
three threads — a feeder, a manager, the loop — which cost about a millisecond per
verification, 5–10% of verifying a small sealed file.) An idle worker waits in a blocking
read; the most recently used one is given the next job, its caches warm. Waiting for a free
worker is not counted against a file's budget. A runner serves one event loop at a time.

Fairness: every job names the client it is for (the portal's hashed client address, or its
hashed API client for an agency's call, or ``OWN_WORK`` for the portal's own documents). A
client has at most ``per_client`` jobs in the workers at once (by default one fewer than the
workers), and a freed worker goes to the waiting clients in turn, so one client sending
heavy files keeps at most that many workers busy and the others are served between its
files. Before a PDF is queued at all, the cheap checks of ``signing.structure`` run, so an
absurd file is refused at once and never waits for or occupies a worker. They read the whole
file (about 1.5 µs per KiB, some 50 ms for the largest accepted): in a thread for a large
file, on the event loop up to 256 KiB, where they cost less than the hand-off to a thread and
back. The worker then verifies without running them again on the same bytes
(``verify_document(..., outline_checked=True)``).

Two kinds of job run in the workers under the same limits: ``verify`` (a document's
signatures, a ``VerificationReport``) and ``open_attachment`` (whether a party's PDF
attachment opens: ``signing.structure.attachment_problem``), so no untrusted PDF is parsed
in the web process.
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
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType, TracebackType
from typing import cast

from signing import event_loop
from signing.documents import verify_document
from signing.report import FileProblem, VerificationReport
from signing.structure import attachment_problem, structural_problem
from signing.verdict import file_problem_report
from signing.verify import BudgetExceeded, VerificationContext
from signing.worker_logs import configure_worker_logging

__all__ = ["OWN_WORK", "VerificationRunner"]

OWN_WORK = "portal"
"""The client key of the portal's own documents (what it has just signed, checked once)."""

logger = logging.getLogger(__name__)
_GRACE_SECONDS = 2.0
_JOBS_PER_WORKER = 200
_CHECKED_ON_THE_LOOP = 256 * 1024
"""Files up to this size get their cheap checks without a thread (``_structural_problem``):
at most about 0.4 ms on the loop, while the hand-off to a thread and back took 0.35 ms
unloaded and 1-2 ms under load (a 100-page sealed PDF, 86 KiB, is checked in 0.13 ms)."""
_SIZE = struct.Struct("!i")
"""The length prefix of a message, as ``multiprocessing.connection.Connection`` frames it
(the worker reads and writes through one; messages stay below 2 GiB)."""


def _preloaded() -> list[str]:
    """The modules the forkserver imports once, for every worker it forks: the verifier and
    the main module of the process that runs the runner (``portal.cli`` in the portal). Each
    new worker runs that main module again before its first job (``multiprocessing`` does, by
    name, so that what ``__main__`` defines can be unpickled); with its imports not yet in the
    forkserver, that imported the whole portal anew in every worker: about 2 s of CPU each,
    so 10 ms per document at a worker replaced every 200 (the workers cost three times the
    verification). A main run as a script, or a package's ``__main__`` (``python -m pytest``),
    is not run by name, and is not preloaded."""
    main = getattr(sys.modules["__main__"].__spec__, "name", None)
    return ["signing.documents"] + ([main] if main and not main.endswith("__main__") else [])


def _init_worker(memory_limit: int) -> None:
    configure_worker_logging()  # JSON, nothing from the file (signing.worker_logs)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    signal.signal(signal.SIGALRM, _on_alarm)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BudgetExceeded


def _open_attachment(data: bytes, context: VerificationContext) -> FileProblem | None:
    try:
        return attachment_problem(data, context.max_bytes)
    except RecursionError:
        return FileProblem.TOO_DEEP
    except MemoryError:
        return FileProblem.TOO_COMPLEX


_VERIFY, _OPEN_ATTACHMENT = "verify", "open_attachment"
_JOBS: dict[str, Callable[[bytes, VerificationContext], object]] = {
    # the runner ran the outline checks on these bytes before it queued them (``verify``)
    _VERIFY: partial(verify_document, outline_checked=True), _OPEN_ATTACHMENT: _open_attachment}


def _run_in_worker(kind: str, data: bytes, context: VerificationContext, budget: float) -> object:
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        return _JOBS[kind](data, context)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _over_budget(kind: str, data: bytes) -> object:
    """The answer for a job that ran out of time or memory, or killed its worker."""
    if kind == _OPEN_ATTACHMENT:
        return FileProblem.TOO_COMPLEX
    return _too_complex(data)


def _too_complex(data: bytes) -> VerificationReport:
    return file_problem_report(data, FileProblem.TOO_COMPLEX)


def _serve(connection: Connection, memory_limit: int) -> None:
    """A worker's life: read a job, answer its report, until the runner closes the socket.
    Its documents share one event loop (``signing.event_loop``: a loop per document cost
    about 0.3 ms of each)."""
    _init_worker(memory_limit)
    with event_loop.kept_loop():
        while True:
            try:
                kind, context, budget = pickle.loads(connection.recv_bytes())  # noqa: S301 (from the runner)
                data = connection.recv_bytes()
            except EOFError:
                return
            try:
                answer = pickle.dumps(_run_in_worker(kind, data, context, budget))
            except (Exception, BudgetExceeded):  # the alarm went off just as the job finished
                answer = pickle.dumps(_over_budget(kind, data))
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
        per_client: int | None = None,
        time_budget: float = 20.0,
        memory_limit: int = 1536 * 1024 * 1024,
        on_worker_lost: Callable[[str], None] | None = None,
    ) -> None:
        """``per_client``: jobs of one client in the workers at once (default: one fewer than
        the workers, at least one). ``on_worker_lost`` hears of each worker process lost
        mid-job, with the reason: ``died`` (it ended), ``over_budget`` (killed past the time
        budget) or ``failed``."""
        self.context = context
        self.on_worker_lost = on_worker_lost
        self.workers = workers
        self.per_client = per_client if per_client is not None else max(1, workers - 1)
        self.time_budget = time_budget
        self.memory_limit = memory_limit
        self._mp_context = multiprocessing.get_context("forkserver")
        self._mp_context.set_forkserver_preload(_preloaded())
        self._idle: list[_Worker] = []
        self._busy = 0
        self._running: collections.Counter[str] = collections.Counter()
        """Jobs in the workers by client."""
        self._waiting: dict[str, collections.deque[asyncio.Future[None]]] = {}
        """Waiting jobs by client, the clients in the order they are served next."""
        self._closed = False

    async def verify(self, data: bytes, *, client: str = OWN_WORK) -> VerificationReport:
        """Verify ``data`` within the budget; always returns a report."""
        problem = await self._structural_problem(data)
        if problem is not None:
            return await asyncio.to_thread(file_problem_report, data, problem)
        return cast(VerificationReport, await self._run(_VERIFY, data, client))  # the worker's answer

    async def attachment_problem(self, data: bytes, *, client: str) -> FileProblem | None:
        """Why a party's PDF attachment cannot be accepted, or ``None`` when it opens
        (``signing.structure.attachment_problem``, in a worker within the budget)."""
        problem = await self._structural_problem(data)
        if problem is not None:
            return problem
        return cast(FileProblem | None, await self._run(_OPEN_ATTACHMENT, data, client))  # the worker's

    async def _structural_problem(self, data: bytes) -> FileProblem | None:
        """``signing.structure.structural_problem``: on the event loop up to
        ``_CHECKED_ON_THE_LOOP``, in a thread for a larger file (milliseconds per megabyte)."""
        if len(data) <= _CHECKED_ON_THE_LOOP:
            return structural_problem(data, self.context.max_bytes)
        return await asyncio.to_thread(structural_problem, data, self.context.max_bytes)

    async def _run(self, kind: str, data: bytes, client: str) -> object:
        for _attempt in range(2):
            try:
                worker = await self._acquire(client)
            except Exception:
                logger.warning("no verification worker could be started", exc_info=True)
                return _over_budget(kind, data)
            try:
                answer = await asyncio.wait_for(self._exchange(worker, kind, data),
                                                timeout=self.time_budget + _GRACE_SECONDS)
            except TimeoutError:
                logger.warning("verification over budget; killing its worker")
                self._lost("over_budget")
                self._discard(worker, client)
                return _over_budget(kind, data)
            except _WorkerLost:
                # This file, or a kill from outside: a new worker, one retry.
                logger.warning("a verification worker died; retrying in another")
                self._lost("died")
                self._discard(worker, client)
                continue
            except Exception:
                logger.warning("verification worker failed", exc_info=True)
                self._lost("failed")
                self._discard(worker, client)
                return _over_budget(kind, data)
            except BaseException:  # cancelled mid-job: the worker's answer would be stale
                self._discard(worker, client)
                raise
            self._release(worker, client)
            return answer
        return _over_budget(kind, data)

    def _lost(self, reason: str) -> None:
        if self.on_worker_lost is not None:
            self.on_worker_lost(reason)

    async def _exchange(self, worker: _Worker, kind: str, data: bytes) -> object:
        loop = asyncio.get_running_loop()
        job = pickle.dumps((kind, self.context, self.time_budget))
        try:
            await loop.sock_sendall(worker.channel, _SIZE.pack(len(job)) + job + _SIZE.pack(len(data)))
            await loop.sock_sendall(worker.channel, data)
            (size,) = _SIZE.unpack(await _receive(loop, worker.channel, _SIZE.size))
            answer = await _receive(loop, worker.channel, size)
        except OSError as exc:  # EPIPE, ECONNRESET
            raise _WorkerLost from exc
        worker.jobs += 1
        return pickle.loads(answer)  # noqa: S301 (our worker's, as ProcessPoolExecutor did)

    async def _acquire(self, client: str) -> _Worker:
        """A worker for one of ``client``'s jobs: at once when a worker is free and the client
        is under its share (nobody else can be waiting for that worker then: a freed worker
        is handed to a waiting job at once), else when ``_hand_off`` gives it one."""
        if self._busy < self.workers and self._running[client] < self.per_client:
            self._take(client)
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(client, collections.deque()).append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._give_back(client)  # handed a worker, but its caller left
                else:
                    self._forget(client, waiter)
                raise
        if self._idle:
            return self._idle.pop()
        try:
            return self._start_worker()
        except BaseException:
            self._give_back(client)
            raise

    def _take(self, client: str) -> None:
        self._busy += 1
        self._running[client] += 1

    def _give_back(self, client: str) -> None:
        self._busy -= 1
        self._running[client] -= 1
        if self._running[client] <= 0:
            del self._running[client]
        self._hand_off()

    def _forget(self, client: str, waiter: asyncio.Future[None]) -> None:
        queue = self._waiting.get(client)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiting[client]

    def _hand_off(self) -> None:
        """Give free workers to waiting jobs, one client after another: the client served
        goes to the back of the line."""
        while self._busy < self.workers:
            client = next((name for name in self._waiting if self._running[name] < self.per_client), None)
            if client is None:
                return
            queue = self._waiting.pop(client)
            waiter = queue.popleft()
            if queue:
                self._waiting[client] = queue  # to the back of the line
            if waiter.done():  # cancelled, its caller not yet resumed to forget it
                continue
            self._take(client)
            waiter.set_result(None)

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

    def _release(self, worker: _Worker, client: str) -> None:
        if self._closed or worker.jobs >= _JOBS_PER_WORKER:
            worker.channel.close()  # the worker reads the end of its socket and exits
        else:
            self._idle.append(worker)
        self._give_back(client)

    def _discard(self, worker: _Worker, client: str) -> None:
        worker.channel.close()
        worker.process.kill()
        worker.process.join(timeout=1.0)
        self._give_back(client)

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
