"""``portal serve --workers N`` on a busy machine: uvicorn's supervisor pings each server
process and replaces one that does not answer in time. A new process imports the whole portal
before it can answer (16 s measured on a loaded 2-core machine), so the supervisor must wait
longer than that, or it kills and respawns every process forever and the node never serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal import cli
from portal.settings import load_settings


def test_several_server_processes_get_time_to_import_before_the_supervisor_gives_up(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda *_args, **kwargs: started.update(kwargs))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # _serve exports it: restored after the test
    cli._serve(load_settings({"DATA_DIR": str(data_dir)}), workers=2)
    assert started["workers"] == 2
    assert started["timeout_worker_healthcheck"] >= 30
