"""The processes a benchmark starts, and how it stops them: shared by the benchmarks.

Every process is registered on a `contextlib.ExitStack` as it starts, so it is
stopped (SIGTERM, then SIGKILL if it lingers) whatever happens; servers listen
on free loopback ports; set-up commands show their output only when they fail.
With `--database postgresql` the databases are in a throwaway cluster started
by the tests' own `tests/postgresql_cluster.py`.
"""

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: the kinds of database a benchmark can run on (`--database`)
DATABASES = ("sqlite", "postgresql")
TESTS = Path(__file__).resolve().parent.parent / "tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    """Return once `port` accepts connections; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (gunicorn then stops its workers), SIGKILL if it lingers; no-op once stopped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def tail(log: Path) -> str:
    """The end of a process's output, for an error message."""
    return log.read_text(errors="replace")[-3000:]


def spawn(stack: contextlib.ExitStack, args: list, log: Path, **popen) -> subprocess.Popen:
    """Start a process with its output appended to `log`, registered for stopping."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **popen)
    stack.callback(stop, proc)
    return proc


def start(
    stack: contextlib.ExitStack, args: list, port: int, what: str, log: Path, **popen
) -> subprocess.Popen:
    """Start a server process, registered for stopping, and wait until it listens."""
    proc = spawn(stack, args, log, **popen)
    try:
        wait_for_port(port, proc, what)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; its output:\n{tail(log)}") from exc
    return proc


def start_redis(stack: contextlib.ExitStack, tmp: Path) -> str:
    """A redis-server without persistence on a free loopback port; its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    start(
        stack,
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        port,
        "redis-server",
        tmp / "redis.log",
    )
    return f"redis://127.0.0.1:{port}/0"


def databases(stack: contextlib.ExitStack, tmp: Path, kind: str, names: list[str]) -> dict:
    """A SQLAlchemy URL per name: SQLite files under `tmp`, or new databases in a
    throwaway PostgreSQL cluster registered for stopping."""
    if kind == "sqlite":
        return {name: f"sqlite:///{tmp / f'{name}.sqlite3'}" for name in names}
    sys.path.insert(0, str(TESTS))
    import postgresql_cluster

    cluster = postgresql_cluster.start()
    stack.callback(cluster.stop)
    return {name: cluster.create_database(name) for name in names}


def run(args: list, env: dict, cwd: Path, what: str) -> None:
    """Run a set-up command to completion, showing its output only if it fails."""
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stdout}{done.stderr}")


@dataclass
class Server:
    """A running gunicorn: where to send requests, and what to look at when it fails."""

    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    def check(self) -> None:
        """Fail with the log's tail if the master is gone (workers that cannot boot stop it)."""
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn {self.name} exited with status {self.proc.returncode}; "
                f"its output:\n{tail(self.log)}"
            )


def gunicorn(
    stack, tmp: Path, name: str, app: str, cwd: Path, env: dict, port: int | None = None
) -> Server:
    """`gunicorn -w 2 app` (sync workers) on loopback: on `port`, else on a free one."""
    port, log = port or free_port(), tmp / f"{name}.log"
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    proc = start(stack, args, port, f"gunicorn {name}", log, cwd=cwd, env=env)
    return Server(name, port, proc, log)
