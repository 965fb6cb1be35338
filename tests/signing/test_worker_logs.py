"""Verification workers log JSON with nothing from the uploaded file (they used to log
plain text with certificate subject names). SECURITY.md "Logging and audit" (v5.0.0-16.2.5)."""

from __future__ import annotations

import json
import logging

import pytest

from signing.worker_logs import configure_worker_logging


def test_a_worker_log_line_is_json_without_the_file_s_names(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_worker_logging()
        log = logging.getLogger("pyhanko.sign.validation")
        try:
            raise ValueError("certificate CN=欧阳明 could not be validated")
        except ValueError:
            log.warning("signer %s could not be validated", "CN=欧阳明,SERIALNUMBER=110101199003074514",
                        exc_info=True)
        log.info("parsed %s", "欧阳明的签名")  # below WARNING: not written at all
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines == [{**lines[0], "level": "WARNING", "logger": "pyhanko.sign.validation",
                      "message": "signer %s could not be validated", "process": "verification-worker",
                      "exception": ["builtins.ValueError"]}]
    assert "欧阳明" not in json.dumps(lines, ensure_ascii=False)
