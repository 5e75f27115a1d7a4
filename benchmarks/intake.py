"""How fast the engine takes requests, next to a bare Flask endpoint that inserts one row.

Both are served the same way, one after the other in one run: gunicorn with
2 sync workers, SQLite in WAL mode (or, with `--database postgresql`, a
throwaway PostgreSQL cluster), a redis-server of our own on loopback.
32 concurrent clients send a fixed number of `POST /api/v1/requests` to each
(after an unmeasured warm-up); the table gives requests per second, p50 and
p99 latency, and the engine/bare throughput ratio, checked against the
targets: ratio >= 0.30 and engine p99 < 100 ms. Exit status 1 on FAIL.

    .venv/bin/python benchmarks/intake.py [--requests 3000] [--database postgresql] [--json]

The client is a single asyncio loop in this process (the servers are other
processes), and its CPU time is reported so one can see it did not starve
the servers. Every process it starts is stopped before it returns.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from processes import DATABASES, Server, databases, gunicorn, run, start_redis

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
PATH = "/api/v1/requests"
MIN_RATIO = 0.30
MAX_P99_MS = 100.0
ERRORS_SHOWN = 5


# -- the servers -------------------------------------------------------------------------------


def serve_engine(stack, tmp: Path, redis_url: str, database_url: str) -> Server:
    """The engine on a freshly migrated database, configured as in production."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_hex(32),
        DSR_ENV="production",
        MAIL_BACKEND="outbox",
        SMS_BACKEND="outbox",
        DSR_DATA_KEY=secrets.token_hex(32),
        OUTBOX_DIR=str(tmp / "outbox"),
        BASE_URL="http://127.0.0.1",
        RATELIMIT_SUBMIT_IP="1000000 per hour",
        RATELIMIT_SUBMIT_EMAIL="1000000 per hour",
        # the demo instance declares its connectors; intake never calls them
        DSR_CRM_SECRET=secrets.token_hex(16),
        DSR_SMS_SECRET=secrets.token_hex(16),
        DSR_BILLING_URL=f"sqlite:///{tmp / 'billing.sqlite3'}",
        DSR_CRM_URL="http://127.0.0.1:8701/dsr",
        DSR_SMS_URL="http://127.0.0.1:8702/dsr",
    )
    upgrade = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    run(upgrade, dict(env, FLASK_APP="wsgi"), ROOT, "flask db upgrade")
    return gunicorn(stack, tmp, "engine", "wsgi:app", ROOT, env)


def serve_bare(stack, tmp: Path, database_url: str) -> Server:
    """The bare app on its own database, table created before the workers start."""
    env = dict(os.environ, BARE_DATABASE_URL=database_url)
    run([sys.executable, "bare_app.py"], env, BENCHMARKS, "creating the bare table")
    return gunicorn(stack, tmp, "bare", "bare_app:app", BENCHMARKS, env)


def cpu_seconds(master_pid: int) -> float | None:
    """CPU time (user + system) of a gunicorn master's workers, from /proc; None elsewhere."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        ticks = 0
        for pid in children:
            fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields_[11]) + int(fields_[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


# -- the client --------------------------------------------------------------------------------


def payloads(port: int, label: str, count: int) -> list[bytes]:
    """Ready-made HTTP requests, each with its own email (per-address limits, real rows)."""
    run_id = secrets.token_hex(4)
    out = []
    for i in range(count):
        body = json.dumps(
            {
                "type": "access",
                "email": f"bench-{label}-{run_id}-{i}@example.org",
                "name": f"Bench Subject {i}",
                "identifiers": {},
                "details": {},
                "language": "fr",
            }
        ).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def exchange(reader, writer, data: bytes) -> tuple[int, bytes, bool]:
    """Send one request, read one response: status, body, whether the server closes."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split()[1]), body, headers.get("connection", "").strip() == "close"


@dataclass
class Tally:
    """What the clients saw: one latency per request, and the failures."""

    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)


async def client(port: int, todo: list, tally: Tally, timeout: float, deadline: float) -> None:
    """Take requests off the shared list until it is empty; reconnect when told to."""
    reader = writer = None
    while todo and time.perf_counter() < deadline:
        data = todo.pop()
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, body, close = await asyncio.wait_for(exchange(reader, writer, data), timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            status, body, close = 0, repr(exc).encode(), True
        tally.latencies.append(time.perf_counter() - started)
        if not 200 <= status < 300:
            tally.errors.append((status, body[:300].decode(errors="replace")))
        if close and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def drive(port: int, requests: list, opts) -> tuple[Tally, float]:
    """Send every request with `opts.clients` connections; the tally and the wall time.

    Requests still unsent after `opts.deadline` seconds count as errors, so a
    server that hangs cannot keep the benchmark running for long.
    """
    todo, tally = list(reversed(requests)), Tally()
    started = time.perf_counter()
    deadline = started + opts.deadline
    await asyncio.gather(
        *(client(port, todo, tally, opts.timeout, deadline) for _ in range(opts.clients))
    )
    tally.errors.extend([(0, "not sent: the deadline passed")] * len(todo))
    return tally, time.perf_counter() - started


# -- measuring and reporting -------------------------------------------------------------------


@dataclass
class Result:
    """One target's figures."""

    target: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float | None
    client_cpu_ms: float
    error_samples: list


def percentile(values: list, q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def measure(server: Server, opts) -> Result:
    """Warm up (not counted), then send the measured requests and summarise them."""
    port, master = server.port, server.proc.pid
    requests = payloads(port, server.name, opts.warmup + opts.requests)
    asyncio.run(drive(port, requests[: opts.warmup], opts))
    server.check()
    server_before, client_before = cpu_seconds(master), time.process_time()
    tally, wall = asyncio.run(drive(port, requests[opts.warmup :], opts))
    server_after, client_cpu = cpu_seconds(master), time.process_time() - client_before
    server.check()
    server_cpu = None
    if server_before is not None and server_after is not None and server_after >= server_before:
        server_cpu = server_after - server_before  # a restarted worker would make it negative
    sent, ms = len(tally.latencies), 1000
    n = max(1, sent)  # a divisor, even if nothing could be sent
    return Result(
        server.name,
        sent,
        len(tally.errors),
        n / wall,
        percentile(tally.latencies, 0.50) * ms,
        percentile(tally.latencies, 0.99) * ms,
        None if server_cpu is None else server_cpu * ms / n,
        client_cpu * ms / n,
        tally.errors[:ERRORS_SHOWN],
    )


def verdict(engine: Result, bare: Result) -> dict:
    """The ratio and each target's check; a run with errors never passes."""
    ratio = engine.rps / bare.rps if bare.rps else 0.0
    checks = {
        "ratio": ratio >= MIN_RATIO,
        "p99": engine.p99_ms < MAX_P99_MS,
        "no_errors": engine.errors == 0 and bare.errors == 0,
    }
    return {"ratio": ratio, "checks": checks, "pass": all(checks.values())}


def print_table(results: list[Result], outcome: dict) -> None:
    print(
        f"{'target':<8} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'srv cpu ms/req':>14} {'cli cpu ms/req':>14}"
    )
    for r in results:
        server = "-" if r.server_cpu_ms is None else f"{r.server_cpu_ms:.2f}"
        print(
            f"{r.target:<8} {r.requests:>8} {r.errors:>6} {r.rps:>8.1f} {r.p50_ms:>7.1f} "
            f"{r.p99_ms:>7.1f} {server:>14} {r.client_cpu_ms:>14.2f}"
        )
    for r in results:
        for status, body in r.error_samples:
            print(f"  {r.target} error: HTTP {status or 'connection'} {body}")
    checks = outcome["checks"]
    print(
        f"ratio engine/bare req/s: {outcome['ratio']:.2f} (target >= {MIN_RATIO:.2f}) "
        f"{'ok' if checks['ratio'] else 'MISSED'}"
    )
    print(
        f"engine p99: {results[0].p99_ms:.1f} ms (target < {MAX_P99_MS:.0f} ms) "
        f"{'ok' if checks['p99'] else 'MISSED'}"
    )
    print("PASS" if outcome["pass"] else "FAIL")


def benchmark(opts) -> tuple[list[Result], dict]:
    """Serve, measure and stop each target in turn, so they never compete for the CPU."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="dsr-bench-") as name, contextlib.ExitStack() as outer:
        tmp = Path(name)
        urls = databases(outer, tmp, opts.database, ["engine", "bare"])
        for target in ("engine", "bare"):
            with contextlib.ExitStack() as stack:
                if target == "engine":
                    server = serve_engine(stack, tmp, start_redis(stack, tmp), urls["engine"])
                else:
                    server = serve_bare(stack, tmp, urls["bare"])
                results[target] = measure(server, opts)
    return [results["engine"], results["bare"]], verdict(results["engine"], results["bare"])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--timeout", type=float, default=30, help="seconds allowed per request")
    parser.add_argument("--deadline", type=float, default=600, help="seconds allowed per target")
    parser.add_argument(
        "--database", choices=DATABASES, default="sqlite", help="the database of both targets"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    opts = parser.parse_args(argv)
    if opts.requests < 1 or opts.warmup < 0 or opts.clients < 1 or opts.requests > 1_000_000:
        parser.error("--requests must be 1..1000000, --warmup >= 0, --clients >= 1")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    results, outcome = benchmark(opts)
    if opts.json:
        print(
            json.dumps(
                {
                    "results": [asdict(r) for r in results],
                    **outcome,
                    "database": opts.database,
                    "targets": {"min_ratio": MIN_RATIO, "max_p99_ms": MAX_P99_MS},
                },
                indent=2,
            )
        )
    else:
        print(f"database: {opts.database}")
        print_table(results, outcome)
    return 0 if outcome["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
