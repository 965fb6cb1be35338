"""An S3-compatible server process for tests: moto's standalone server, spoken to over HTTP.

The portal's S3 store talks to it exactly as to any S3-compatible service (signed requests,
the wire protocol), nothing in the client is patched. ``S3Server.settings(bucket)`` gives the
``S3Settings`` of a fresh bucket; ``stop()`` ends the process (a store then meets a server
that does not answer).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.settings import S3Settings

ACCESS_KEY = "portal-test-key"
SECRET_KEY = "portal-test-secret-0123456789"  # moto accepts any credentials; signed all the same


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    endpoint_url: str

    def settings(self, bucket: str, prefix: str = "blobs/") -> S3Settings:
        return S3Settings(bucket=bucket, endpoint_url=self.endpoint_url, region="cn-north-1",
                          access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, prefix=prefix)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_s3_server(log_dir: Path) -> S3Server:
    """Start ``moto_server`` on a free loopback port; return once it answers."""
    port = free_port()
    executable = Path(sys.executable).with_name("moto_server")
    log = (log_dir / f"moto-{port}.log").open("wb")
    process = subprocess.Popen([str(executable), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}; see {log.name}")
        try:
            httpx.get(url, timeout=1)
            return S3Server(process, url)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not answer within 30 s")
