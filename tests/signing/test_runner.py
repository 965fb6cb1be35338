"""The worker processes of ``signing.runner.VerificationRunner``: how many, how long they live,
and what happens to one that stops answering, dies or whose caller goes away.

(Budgets and memory limits against hostile files are in ``test_hostile_pdfs.py``.)
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from signing import (
    FileProblem,
    KeySigner,
    SignatureSettings,
    VerificationContext,
    VerificationRunner,
    sign_pdf,
)
from signing import runner as runner_module
from signing.structure import MAX_REVISIONS
from tests.signing.hostile import many_revisions
from tests.signing.sample_pdfs import make_pdf


@pytest.fixture(scope="module")
def sealed(agency_rsa: KeySigner) -> bytes:
    return sign_pdf(make_pdf(1), agency_rsa, SignatureSettings())


async def test_more_files_than_workers_wait_for_one_and_all_pass(
        context: VerificationContext, sealed: bytes) -> None:
    async with VerificationRunner(context, workers=2) as runner:
        reports = await asyncio.gather(*(runner.verify(sealed, client=f"c{n}") for n in range(5)))
        assert all(report.passed for report in reports)
        assert len(runner._idle) == 2 and runner._busy == 0


async def test_the_most_recently_used_worker_takes_the_next_file(
        context: VerificationContext, sealed: bytes) -> None:
    async with VerificationRunner(context, workers=2) as runner:
        await asyncio.gather(runner.verify(sealed, client="a"), runner.verify(sealed, client="b"))
        last = runner._idle[-1]
        assert (await runner.verify(sealed)).passed
        assert runner._idle[-1] is last and last.jobs == 2


async def test_a_worker_is_replaced_after_its_share_of_jobs(
        context: VerificationContext, sealed: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "_JOBS_PER_WORKER", 2)
    async with VerificationRunner(context, workers=1) as runner:
        assert (await runner.verify(sealed)).passed
        first = runner._idle[0].process
        assert (await runner.verify(sealed)).passed
        assert runner._idle == []  # retired after two jobs
        first.join(timeout=5)
        assert first.exitcode == 0  # it read the end of its socket and left
        assert (await runner.verify(sealed)).passed
        assert runner._idle[0].process is not first


async def test_a_worker_that_stops_answering_is_killed_after_the_grace_period(
        context: VerificationContext, sealed: bytes) -> None:
    async with VerificationRunner(context, workers=1, time_budget=20.0) as runner:
        assert (await runner.verify(sealed)).passed  # a generous budget: the machine may be busy
        stuck = runner._idle[0].process
        assert stuck.pid is not None
        os.kill(stuck.pid, signal.SIGSTOP)  # like a C call that never returns to Python
        runner.time_budget = 0.1
        report = await runner.verify(sealed)
        assert report.problem is FileProblem.TOO_COMPLEX
        assert not stuck.is_alive()
        runner.time_budget = 20.0
        assert (await runner.verify(sealed)).passed


async def test_a_caller_that_goes_away_takes_its_worker_with_it(
        context: VerificationContext, sealed: bytes) -> None:
    async with VerificationRunner(context, workers=1) as runner:
        assert (await runner.verify(sealed)).passed
        worker = runner._idle[0]
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGSTOP)  # the answer would come after the caller left
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(runner.verify(sealed), timeout=0.5)
        assert not worker.process.is_alive() and runner._busy == 0
        assert (await runner.verify(sealed)).passed


async def test_closing_stops_the_idle_workers(context: VerificationContext, sealed: bytes) -> None:
    runner = VerificationRunner(context, workers=2)
    await asyncio.gather(runner.verify(sealed, client="a"), runner.verify(sealed, client="b"))
    processes = [worker.process for worker in runner._idle]
    await asyncio.to_thread(runner.close)
    assert [process.exitcode for process in processes] == [0, 0]


async def test_one_client_with_heavy_files_cannot_keep_another_waiting(
        context: VerificationContext, sealed: bytes) -> None:
    # SECURITY.md 15.2.2: one client's heavy files took both workers; now it holds at most one of two
    heavy = many_revisions(sealed, MAX_REVISIONS - 10)  # within the outline checks, seconds to verify
    finished: list[str] = []

    async def verify(client: str, data: bytes) -> bool:
        report = await runner.verify(data, client=client)
        finished.append(client)
        return report.passed

    async with VerificationRunner(context, workers=2, time_budget=2.0) as runner:
        # both workers started and warm before anything is compared
        await asyncio.gather(runner.verify(sealed, client="a"), runner.verify(sealed, client="b"))
        flood = [asyncio.create_task(verify("heavy", heavy)) for _ in range(4)]
        await asyncio.sleep(0.05)  # the heavy files are in line first
        assert runner._running["heavy"] == 1 and len(runner._waiting["heavy"]) == 3
        assert await verify("light", sealed)
        # served by the other worker at once: before a second heavy file could even start
        # (first in, first out, it would have waited for three of them)
        assert finished.count("heavy") <= 1
        await asyncio.gather(*flood)
        assert runner._busy == 0 and not runner._running and not runner._waiting


async def test_waiting_clients_are_served_in_turn(context: VerificationContext, sealed: bytes) -> None:
    async with VerificationRunner(context, workers=1) as runner:
        order: list[str] = []

        async def verify(client: str) -> None:
            await runner.verify(sealed, client=client)
            order.append(client)

        await asyncio.gather(*(verify(client) for client in ("a", "a", "a", "b", "b", "c")))
        # the first "a" took the free worker; then one job of each waiting client in turn
        assert order == ["a", "a", "b", "c", "a", "b"]



@pytest.fixture(scope="module")
def sealed_large(agency_rsa: KeySigner) -> bytes:
    document = sign_pdf(make_pdf(400), agency_rsa, SignatureSettings())
    assert len(document) > runner_module._CHECKED_ON_THE_LOOP
    return document


@pytest.mark.parametrize("large", [False, True], ids=["checked on the loop", "checked in a thread"])
async def test_a_file_the_outline_checks_refuse_never_reaches_a_worker(
        context: VerificationContext, sealed: bytes, sealed_large: bytes, large: bool) -> None:
    """The runner runs the checks itself (the worker does not repeat them), small file or large."""
    document = sealed_large if large else sealed
    async with VerificationRunner(context, workers=1) as runner:
        assert (await runner.verify(document[:-200])).problem is FileProblem.MALFORMED  # cut short
        too_many = many_revisions(document, MAX_REVISIONS + 10)
        assert (await runner.verify(too_many)).problem is FileProblem.ABNORMAL_STRUCTURE
        assert runner._idle == [] and runner._busy == 0  # no worker was started
        assert (await runner.verify(document)).passed


_MAIN = '''
import asyncio, pickle
import heavy_dependency  # noqa: F401 (what a real main imports: the whole portal)
from signing import VerificationRunner
from signing import runner
from tests.signing.sample_pdfs import make_pdf

async def main() -> None:
    runner._JOBS_PER_WORKER = 1  # a new worker for every file
    with open("context.pickle", "rb") as file:
        context = pickle.load(file)
    async with VerificationRunner(context, workers=1) as r:
        for _ in range(3):
            assert await r.attachment_problem(make_pdf(1), client="c") is None
            print("worker", r._idle[0].process.pid if r._idle else "retired", flush=True)

if __name__ == "__main__":
    asyncio.run(main())
'''


def test_a_new_worker_does_not_import_the_main_modules_dependencies_again(
        context: VerificationContext, tmp_path: Path) -> None:
    # Every process multiprocessing starts runs the parent's main module again; the forkserver
    # preloads that module's imports, so a worker started every 200 files does not pay for
    # them again (in the portal: the whole portal, about 2 s of CPU per worker).
    (tmp_path / "heavy_dependency.py").write_text(
        "import os\nwith open(os.environ['IMPORT_LOG'], 'a') as log:\n    log.write(f'{os.getpid()}\\n')\n")
    (tmp_path / "runner_main.py").write_text(_MAIN)
    (tmp_path / "context.pickle").write_bytes(pickle.dumps(context))
    log = tmp_path / "imports.log"
    env = {**os.environ, "IMPORT_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).resolve().parents[2])])}
    done = subprocess.run([sys.executable, "-m", "runner_main"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    importers = log.read_text().split()
    assert len(importers) == 2, importers  # the main process and the forkserver, no worker
    assert done.stdout.count("worker") == 3  # three files, each in a worker of its own
