"""Receipt rendering jobs that kill their own process (SIGKILL), for the receipt pool's tests:
``dies_once`` the first time (it leaves ``marker`` behind, then renders as ``render`` does),
``always_dies`` every time; ``hangs_once`` sleeps for 15 minutes the first time. Module-level, so the
pool's processes import them by name."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from portal.workers.receipt_documents import render


def dies_once(marker: Path, receipt_json: bytes, url: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return render(receipt_json, url, formats)


def always_dies(receipt_json: bytes, url: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def hangs_once(marker: Path, receipt_json: bytes, url: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    if not marker.exists():
        marker.touch()
        time.sleep(900)
    return render(receipt_json, url, formats)
