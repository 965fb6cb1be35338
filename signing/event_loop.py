"""The event loop on which the synchronous verifiers (``verify_pdf``, ``verify_ofd``) run
their coroutines (pyhanko validates with coroutines).

By default each document gets a loop of its own, ``asyncio.run``: the verifiers may be called
from any thread (tests and benchmarks call them through ``asyncio.to_thread``) and nothing of
a call outlives it. That costs about 0.3 ms per document, some 10% of verifying a small
sealed PDF (3 ms): creating and closing the loop (0.13 ms), and ``asyncio.run``'s SIGINT
handling (0.16 ms), whose last check of the handler builds the repr of the finished task and
so of the whole report. A verification worker (``signing.runner``) verifies thousands of
documents one after another on one thread, so it keeps one loop for all of them
(``kept_loop``), and each document ends as ``asyncio.run`` would end it:

* every coroutine runs as a task in a copy of the caller's context, so a context variable
  set while verifying one document (``signing.verify``'s ``_DOCUMENT``) is gone for the next;
* what a document leaves running on the loop is cancelled and run to its end before the
  call returns, so nothing of one document runs in the next one's time;
* a call that does not end normally — above all one interrupted from outside, by the worker's
  time budget or ``MemoryError``, maybe while the loop waited for a revocation server — closes
  its loop as ``asyncio.run`` does (cancelling what is left), and the next document gets a
  new loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["kept_loop", "run"]

_T = TypeVar("_T")


class _ThisThread(threading.local):
    keeps_loop = False
    runner: asyncio.Runner | None = None
    """Owns the kept loop (created on first use) and closes it as ``asyncio.run`` does."""


_this_thread = _ThisThread()


@contextlib.contextmanager
def kept_loop() -> Iterator[None]:
    """Within the block, ``run`` in this thread reuses one event loop from call to call."""
    _this_thread.keeps_loop = True
    try:
        yield
    finally:
        _this_thread.keeps_loop = False
        runner, _this_thread.runner = _this_thread.runner, None
        if runner is not None:
            runner.close()


def run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(coroutine)``, on this thread's kept loop inside ``kept_loop``."""
    if not _this_thread.keeps_loop:
        return asyncio.run(coroutine)
    if _this_thread.runner is None:
        _this_thread.runner = asyncio.Runner()
    runner = _this_thread.runner
    loop = runner.get_loop()
    try:
        # wrapped in a task with a copy of this context (``Runner.run`` shares one between calls)
        result = loop.run_until_complete(coroutine)
        _cancel_left_over(loop)
    except BaseException:
        _this_thread.runner = None  # first, so that the next call never gets this loop
        runner.close()
        raise
    return result


def _cancel_left_over(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks a document left on ``loop`` and let them end (their ``finally``
    blocks run), as ``asyncio.run`` does before it closes its loop."""
    left = asyncio.all_tasks(loop)
    if not left:
        return
    for task in left:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
