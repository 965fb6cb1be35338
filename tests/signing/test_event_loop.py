"""``signing.event_loop``: a verification worker's documents share one event loop, and each
still ends as ``asyncio.run`` would end it — nothing of one document reaches the next."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextvars import ContextVar
from types import FrameType

import pytest

from signing import event_loop
from signing.verify import BudgetExceeded

_SEEN: ContextVar[str | None] = ContextVar("seen", default=None)


@pytest.fixture
def alarm() -> Iterator[None]:
    """SIGALRM raises ``BudgetExceeded``, as in a verification worker (``signing.runner``)."""
    def over_budget(signum: int, frame: FrameType | None) -> None:
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, over_budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


async def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_within_kept_loop_documents_share_a_loop_and_outside_each_has_its_own() -> None:
    with event_loop.kept_loop():
        first, second = event_loop.run(_loop()), event_loop.run(_loop())
        assert first is second and not first.is_closed()
    assert first.is_closed()  # closed with the block
    assert event_loop.run(_loop()) is not first


def test_a_context_variable_set_for_one_document_is_gone_for_the_next() -> None:
    async def remember() -> None:
        _SEEN.set("first document")

    async def recall() -> str | None:
        return _SEEN.get()

    with event_loop.kept_loop():
        event_loop.run(remember())
        assert event_loop.run(recall()) is None


def test_what_a_document_leaves_running_is_cancelled_before_it_returns() -> None:
    ended: list[str] = []

    async def straggler() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append("straggler")

    async def document() -> str:
        asyncio.get_running_loop().create_task(straggler())
        await asyncio.sleep(0)  # the straggler starts waiting
        return "report"

    with event_loop.kept_loop():
        assert event_loop.run(document()) == "report"
        assert ended == ["straggler"]


def test_a_document_interrupted_while_the_loop_waits_leaves_nothing_for_the_next(alarm: None) -> None:
    ended: list[str] = []

    async def waiting_for_a_server() -> None:
        try:
            await asyncio.sleep(3600)  # the loop blocks in select() when the alarm goes off
        finally:
            ended.append("interrupted document")

    async def next_document() -> list[str]:
        await asyncio.sleep(0)
        return list(ended)

    with event_loop.kept_loop():
        interrupted = event_loop.run(_loop())
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(BudgetExceeded):
            event_loop.run(waiting_for_a_server())
        assert ended == ["interrupted document"]  # its finally ran before the next document
        assert interrupted.is_closed()
        assert event_loop.run(next_document()) == ["interrupted document"]
