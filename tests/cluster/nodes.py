"""Portal nodes as separate processes (``portal serve``), and Debian's nginx in front of them
with the repository's own ``deploy/nginx/portal.conf``.

Each node has its own ``DATA_DIR`` (nothing on it is shared); what the nodes share is what a
real deployment shares: the database, ``SECRET_KEY`` and the signing configuration (here the
development PKI in one ``DEV_KEYS_DIR``).
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.s3_server import free_port

ROOT_DIR = Path(__file__).resolve().parents[2]
PORTAL = Path(sys.executable).with_name("portal")
NGINX_SITE = ROOT_DIR / "deploy" / "nginx" / "portal.conf"
SECRET_KEY = "cluster-test-secret-key-shared-by-every-node-0123456789"
METRICS_TOKEN = "cluster-test-metrics-token-0123456789abcdef"


def wait_for(url: str, *, timeout: float = 90, process: subprocess.Popen[bytes] | None = None,
             verify: bool | ssl.SSLContext = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2, verify=verify).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Node:
    name: str
    port: int
    data_dir: Path
    env: dict[str, str]
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    jobs: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, with_jobs: bool = False) -> None:
        command = [str(PORTAL), "serve", "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            if with_jobs:
                self.jobs = subprocess.Popen([str(PORTAL), "worker"], env=self.env, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"{self.url}/healthz", process=self.process)

    def database_ports(self) -> set[int]:
        """The local TCP ports of the web server's connections (any process of its group):
        ``pg_stat_activity.client_port`` says which node a PostgreSQL session belongs to."""
        assert self.process is not None
        sockets: set[str] = set()
        for proc in Path("/proc").iterdir():
            try:
                if not proc.name.isdigit() or os.getpgid(int(proc.name)) != self.process.pid:
                    continue
                links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
            except OSError:  # gone meanwhile
                continue
            sockets.update(link[len("socket:["):-1] for link in links if link.startswith("socket:["))
        ports: set[int] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()  # sl, local address:port (hex), …, inode (the 10th)
                if fields[9] in sockets:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no shutdown, no goodbye."""
        for process in (self.process, self.jobs):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.process, self.jobs):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def node_env(database_url: str, data_dir: Path, port: int, *, public_url: str, dev_keys: Path,
             **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
            "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "DEV_KEYS_DIR": str(dev_keys),
            "SECRET_KEY": SECRET_KEY, "PUBLIC_URL": public_url, "PORTAL_MODE": "development",
            "HOST": "127.0.0.1", "PORT": str(port), "TRUSTED_PROXY_HOPS": "1",
            "METRICS_TOKEN": METRICS_TOKEN, "LOG_LEVEL": "WARNING", "NOTIFY_POLL_SECONDS": "0.5",
            **extra}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the proxy's TLS), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "proxy.crt", directory / "proxy.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def site_config(nodes: list[Node], http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """``deploy/nginx/portal.conf`` with this machine's addresses: the nodes in ``upstream``,
    free ports instead of 80/443, no IPv6 listeners, the test certificate. Nothing else changes."""
    site = NGINX_SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{n.port} max_fails=1 fail_timeout=10s;\n" for n in nodes)
    site, count = re.subn(r"(upstream portal_nodes \{\n(?:\s*#.*\n)*)(?:\s*server .*\n)+", r"\g<1>" + servers,
                          site)
    if count != 1:
        raise AssertionError("deploy/nginx/portal.conf: no upstream block with server lines")
    replacements = {
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https_port} ssl http2;\n",
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/certs/ssl-cert-snakeoil.pem": str(cert),
        "/etc/ssl/private/ssl-cert-snakeoil.key": str(key),
        "return 301 https://$host$request_uri;": f"return 301 https://$host:{https_port}$request_uri;",
    }
    for old, new in replacements.items():
        if old not in site:
            raise AssertionError(f"deploy/nginx/portal.conf no longer contains {old.strip()!r}")
        site = site.replace(old, new)
    return site


@dataclass
class Proxy:
    directory: Path
    http_port: int
    https_port: int
    cert: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self, nodes: list[Node]) -> None:
        site = self.directory / "portal.conf"
        site.write_text(site_config(nodes, self.http_port, self.https_port, self.cert,
                                    self.cert.with_suffix(".key")))
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.directory / temp).mkdir(exist_ok=True)
        main = self.directory / "nginx.conf"
        main.write_text(f"""daemon off;
worker_processes 1;
pid {self.directory}/nginx.pid;
error_log {self.directory}/error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    access_log {self.directory}/access.log;
    client_body_temp_path {self.directory}/body;
    proxy_temp_path {self.directory}/proxy;
    fastcgi_temp_path {self.directory}/fastcgi;
    uwsgi_temp_path {self.directory}/uwsgi;
    scgi_temp_path {self.directory}/scgi;
    include {site};
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        checked = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(self.directory)],
                                 capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{checked.stderr}")
        self.process = subprocess.Popen([nginx, "-c", str(main), "-p", str(self.directory)],
                                        stderr=(self.directory / "stderr.log").open("wb"))
        wait_for(f"{self.url}/healthz", process=self.process,
                 verify=ssl.create_default_context(cafile=str(self.cert)))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def new_proxy() -> Proxy:
    directory = Path(tempfile.mkdtemp(prefix="portal-nginx-"))
    directory.chmod(0o755)
    cert, _ = self_signed(directory)
    return Proxy(directory, free_port(), free_port(), cert)
