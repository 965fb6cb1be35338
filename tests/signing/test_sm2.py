"""SM2 through GmSSL: failed verifications say nothing on stderr (SECURITY.md "Logging and audit").

GmSSL writes its source locations to descriptor 2 on every failed verification; a hostile
upload would put raw lines among the verification workers' JSON log lines. ``signing.sm2``
routes them to DEBUG records instead and passes anything else written meanwhile through.
"""

from __future__ import annotations

import logging
import os

import pytest

from signing import sm2
from signing.sm2 import Sm2PrivateKey, sm2_verify


def test_failed_verifications_leave_stderr_clean_and_become_debug_records(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    key = Sm2PrivateKey.generate()
    signature = key.sign(b"message")
    with caplog.at_level(logging.DEBUG, logger="signing.sm2.gmssl"):
        assert not sm2_verify(key.public_key, b"another message", signature)
        assert not sm2_verify(key.public_key, b"message", b"\x30\x06\x02\x01\x01\x02\x01\x01")
        assert sm2_verify(key.public_key, b"message", signature)
    assert capfd.readouterr().err == ""
    gmssl = [record.getMessage() for record in caplog.records if record.name == "signing.sm2.gmssl"]
    assert gmssl and all(message.startswith("GmSSL: /") and ".c:" in message for message in gmssl)


def test_what_others_write_meanwhile_still_reaches_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with sm2._stderr.captured():
        os.write(2, b"a line from another thread\n")
    assert capfd.readouterr().err == "a line from another thread\n"
