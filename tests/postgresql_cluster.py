"""A throwaway PostgreSQL cluster: `initdb` and `pg_ctl start` in a temporary folder.

Shared by the test fixture (tests/conftest.py) and the benchmarks
(`--database postgresql`); it imports neither pytest nor dsr. The cluster
listens on a free loopback port and on a Unix socket in its own folder (the
clients use the socket), trusts local connections, and runs without fsync:
nothing in it outlives the run. `Cluster.stop()` stops it and removes the folder.

PostgreSQL refuses to run as root. When this process is root, the folder is
given to an unprivileged account (`nobody`, or the one `DSR_PG_USER` names)
and `initdb` and `pg_ctl` run as that account (`subprocess`'s `user=` and
`group=`); root's clients still reach the socket.

The server programs are looked up in Debian's `/usr/lib/postgresql/<version>/bin`
(newest first), then on PATH; `PG_BINDIR` names another folder.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: the cluster's superuser role
SUPERUSER = "dsr"
#: settings for a cluster whose data may be lost: speed over durability
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
INSTALL_HINT = "install PostgreSQL's server (Debian: sudo apt-get install postgresql)"


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why and what to install."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bindir() -> Path:
    """The folder holding `initdb` and `pg_ctl`."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise Unavailable(f"initdb, pg_ctl and postgres were not found; {INSTALL_HINT}")


def _version(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in name.split("."))


def server_account() -> dict:
    """`subprocess` arguments that run the server unprivileged: empty unless we are root."""
    if os.geteuid() != 0:
        return {}
    name = os.environ.get("DSR_PG_USER", "nobody")
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise Unavailable(f"running as root, and there is no account {name!r} to run it") from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


@dataclass
class Cluster:
    """A running cluster: where it lives and how to reach it."""

    folder: Path
    port: int
    bin: Path
    account: dict

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """The SQLAlchemy URL of `database`, through the Unix socket."""
        return f"{driver}://{SUPERUSER}@/{database}?host={self.folder}&port={self.port}"

    def conninfo(self, database: str = "postgres") -> str:
        """The libpq connection string of `database` (for psycopg itself)."""
        return f"host={self.folder} port={self.port} user={SUPERUSER} dbname={database}"

    def connect(self):
        """A psycopg connection to the `postgres` database, outside transactions (as
        CREATE DATABASE needs)."""
        import psycopg  # a dependency of the engine, imported late: start() needs only stdlib

        return psycopg.connect(self.conninfo(), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, a copy of `template` when given; its URL."""
        with self.connect() as connection:
            statement = f"CREATE DATABASE {name}"
            if template:
                statement += f" TEMPLATE {template}"
                if connection.info.server_version >= 150000:
                    # PostgreSQL 15 WAL-logs the copy by default: twice slower for a small one
                    statement += " STRATEGY FILE_COPY"
            connection.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, closing whatever connections are still open to it."""
        with self.connect() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once (nothing needs saving) and remove its folder."""
        try:
            self._run("pg_ctl", "stop", "-D", self.folder / "data", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args, timeout: float = 120) -> None:
        done = subprocess.run(
            [self.bin / program, *map(str, args)],
            cwd=self.folder,
            env={**os.environ, "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=timeout,
            **self.account,
        )
        if done.returncode != 0:
            log = self.folder / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"{program} failed: {done.stdout}{done.stderr}{tail}")


def start(parent: str | None = None) -> Cluster:
    """initdb a new cluster in a new folder under `parent` (the system's temp folder by
    default, which the unprivileged account can reach) and start it; Unavailable if it
    cannot be done."""
    programs, account = bindir(), server_account()
    folder = Path(tempfile.mkdtemp(prefix="dsr-pg-", dir=parent))
    if account:
        os.chown(folder, account["user"], account["group"])
    cluster = Cluster(folder, free_port(), programs, account)
    try:
        initdb = ["-D", "data", "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C"]
        cluster._run("initdb", *initdb, "--no-sync")
        settings = {**SETTINGS, "port": str(cluster.port), "unix_socket_directories": f"'{folder}'"}
        with open(folder / "data" / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        cluster._run("pg_ctl", "start", "-D", "data", "-l", "postgres.log", "-w", "-t", "60")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return cluster
