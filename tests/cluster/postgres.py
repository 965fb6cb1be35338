"""PostgreSQL servers of the tests' own: initdb into a temporary directory, a free port, started
and stopped (or restarted, or crashed) by the test, never the machine's shared server.

Run as root (CI, this machine), the server runs as the ``postgres`` user PostgreSQL insists on;
as anyone else, as that user. The binaries are Debian's, ``/usr/lib/postgresql/<version>/bin``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.s3_server import free_port

ROOT_DIR = Path(__file__).resolve().parents[2]


def pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
    return versions[-1]


def _as_server_user(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def _private_dir(prefix: str) -> Path:
    """A directory the server user owns (pytest's own tmp dirs are root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


@dataclass
class PgServer:
    """One server: ``url(db)`` for the portal, ``restart()`` under load, ``stop()`` at the end."""

    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        _as_server_user([str(pg_bin() / "pg_ctl"), "-D", str(self.data), *args])

    def start(self) -> None:
        self._ctl("-l", str(self.directory / "server.log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended, then a clean shutdown; ``immediate``: no shutdown
        checkpoint, crash recovery at start (what a power cut does to the server)."""
        self.stop(mode)
        self.start()

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.directory, ignore_errors=True)

    async def create_database(self, name: str) -> str:
        admin = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return self.url(name)

    def wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run([str(pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True, check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL on port {self.port} not ready after {timeout} s")


def new_server(*settings: str) -> PgServer:
    """initdb a new cluster (trust on loopback, replication allowed) and start it."""
    directory = _private_dir("portal-pg-")
    server = PgServer(directory, free_port())
    _as_server_user([str(pg_bin() / "initdb"), "-D", str(server.data), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write("fsync = on\nmax_connections = 200\n" + "".join(f"{s}\n" for s in settings))
    server.start()
    return server


def new_standby(primary: PgServer) -> PgServer:
    """A streaming standby of ``primary``, set up by ``scripts/pg-standby.sh`` (the operator's
    script): the read replica of DATABASE_REPLICA_URL."""
    directory = _private_dir("portal-pg-standby-")
    standby = PgServer(directory, free_port())
    _as_server_user(["bash", str(ROOT_DIR / "scripts/pg-standby.sh"), "127.0.0.1", str(primary.port),
                     "postgres", str(standby.data), str(standby.port)])
    return standby


@dataclass
class PgBouncer:
    """Debian's PgBouncer in transaction pooling in front of ``server``, with few server
    connections, so that consecutive transactions of one client land on different ones."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_pgbouncer(server: PgServer, database: str, *, server_connections: int = 3) -> PgBouncer:
    directory = _private_dir("portal-pgbouncer-")
    port = free_port()
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(f"""[databases]
{database} = host=127.0.0.1 port={server.port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {server_connections}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {directory}/pgbouncer.log
""")
    if os.geteuid() == 0:
        for path in directory.iterdir():
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)
    command = ["pgbouncer", str(config)]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bouncer = PgBouncer(directory, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = subprocess.run([str(pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                               capture_output=True, check=False)
        if ready.returncode == 0:
            return bouncer
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {(directory / 'pgbouncer.log').read_text()}")
        time.sleep(0.2)
    bouncer.stop()
    raise RuntimeError("pgbouncer did not answer within 30 s")
