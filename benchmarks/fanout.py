"""How fast the engine fans access requests out to the demo systems, next to a bare RQ job.

    .venv/bin/python benchmarks/fanout.py [--requests 1000] [--sms-delay 1]
                                          [--database postgresql] [--json]

Everything runs under a temporary directory, on loopback, and is stopped at
the end: a redis-server of its own, the billing demo file seeded there, the
demo CRM and SMS platform (calling back after `--sms-delay` seconds; both
niced, as they stand for systems on other machines), the
engine under gunicorn (2 sync workers, `DSR_ENV=production`, a database made
by the real migrations) which takes the SMS callbacks, and the demo instance
TOML, which sends tasks where DSR_CRM_URL and DSR_SMS_URL say. The workers are two
`flask --app wsgi dsr worker` processes, as `scripts/run.sh` starts them
(forking RQ workers with their scheduler); no `dsr cron` runs.

1. Bare: as many no-op jobs (`bare_job.nothing`) as the engine will have tasks
   go on the "connectors" queue with `dsr.queue.enqueue_many`, from an app
   context of this process, with the options of a CRM task's job (id, retries,
   timeout: `processing.job_spec` of an unsaved task); then the two workers
   start and drain them, and are stopped.
2. Engine: `--requests` verified access requests are created in this process,
   for the demo people in turn (email, name and phone), so each has three tasks:
   crm, billing, sms (someone a system does not know gives "no data").
   `processing.start` then plans, commits and enqueues each request, in an app
   context of its own as a web request would; then the two workers start
   again, and the database is polled every 0.2 s (a plain connection, which
   on SQLite reads without taking the write lock) until every request is in
   `review`.

Figures. From RQ's own job timestamps (the job id of a task is the task id),
the drain of a phase runs from its first job's start to its last job's end;
the cost per job is that drain x 2 workers / number of jobs. The connector
time is the mean of `Task.connector_ms`; the engine's overhead per task is its
cost per task minus that; the ratio divides it by the bare cost per job, and
the target is a ratio of 3 or less. Also shown: tasks per second (tasks
finished / time from the first `start` to the last request in `review`),
that time, the fan-out's own time, p50/p95 of the job durations and of
`connector_ms`, and the callbacks the web app took (the SMS tasks).

Both phases are measured the same way: every job is on the queue before the
two workers start. The engine's jobs still share the machine (and SQLite's
write lock) with the callbacks the web app takes from the SMS platform: that
is part of the engine's cost as measured here. With `--database postgresql`
the engine's database is in a throwaway PostgreSQL cluster (the billing
system stays a SQLite file: it stands for another system). Exit status 1
on FAIL: ratio above 3, or any task not succeeded (shown with its last error);
2 if the run could not be made (a process that would not start, a phase that
took longer than `--deadline` seconds), with the reason.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bare_job import nothing
from intake import percentile
from processes import (
    DATABASES,
    Server,
    databases,
    free_port,
    gunicorn,
    run,
    spawn,
    start,
    start_redis,
    stop,
    tail,
)
from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from sqlalchemy import create_engine, select, text

from connectors.demo import billing
from connectors.demo.people import PEOPLE
from dsr import create_app, processing
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, Task
from dsr.models.task import TaskStatus, new_task_id
from dsr.operations import create_request, verify
from dsr.queue import enqueue_many

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
WORKERS = 2
#: how much lower the demo systems' scheduling priority is than the engine's
DEMO_NICENESS = 10
WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker"]
MAX_RATIO = 3.0
POLL = 0.2
#: Redis reads for job timestamps, this many jobs at a time
FETCH_CHUNK = 500
SHOWN = 5
#: log lines worth a look after a run
TROUBLE = re.compile(r"Traceback|Error|error|locked|failed|abandoned")


# -- the systems -------------------------------------------------------------------------------


def environment(
    tmp: Path, redis_url: str, database_url: str, crm_port: int, sms_port: int, web_port: int
) -> dict:
    """What every process of the run gets: production settings, everything under `tmp`."""
    pythonpath = [str(BENCHMARKS), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(
        os.environ,
        # the demo instance TOML sends its tasks where these say (url_env)
        DSR_CRM_URL=f"http://127.0.0.1:{crm_port}/dsr",
        DSR_SMS_URL=f"http://127.0.0.1:{sms_port}/dsr",
        DSR_CRM_SECRET=secrets.token_hex(32),
        DSR_SMS_SECRET=secrets.token_hex(32),
        DSR_BILLING_URL=f"sqlite:///{tmp / 'billing.sqlite3'}",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_hex(32),
        DSR_ENV="production",
        MAIL_BACKEND="outbox",
        SMS_BACKEND="outbox",
        DSR_DATA_KEY=secrets.token_hex(32),
        BASE_URL=f"http://127.0.0.1:{web_port}",
        OUTBOX_DIR=str(tmp / "outbox"),
        RESULTS_DIR=str(tmp / "results"),
        PYTHONPATH=os.pathsep.join(pythonpath),
    )


def serve(stack: contextlib.ExitStack, tmp: Path, opts) -> tuple[dict, Server]:
    """Redis, billing, CRM, SMS platform, the migrated database and the web app; the env."""
    redis_url = start_redis(stack, tmp)
    database_url = databases(stack, tmp, opts.database, ["dsr"])["dsr"]
    billing.seed(tmp / "billing.sqlite3")
    crm_port, sms_port, web_port = free_port(), free_port(), free_port()
    env = environment(tmp, redis_url, database_url, crm_port, sms_port, web_port)
    for name, port, extra in (
        ("crm", crm_port, []),
        ("sms", sms_port, ["--delay", str(opts.sms_delay)]),
    ):
        # The demo systems stand for systems on other machines: niced, so that the CPU
        # they use while a worker waits for them is not taken from the engine's workers.
        args = ["nice", "-n", str(DEMO_NICENESS), sys.executable, "-m", f"connectors.demo.{name}"]
        args += ["--port", str(port)]
        args += ["--secret-env", f"DSR_{name.upper()}_SECRET", *extra]
        start(stack, args, port, f"the demo {name}", tmp / f"{name}.log", cwd=ROOT, env=env)
    run([*WORKER[:5], "db", "upgrade"], env, ROOT, "flask db upgrade")
    web = gunicorn(stack, tmp, "engine", "wsgi:app", ROOT, env, port=web_port)
    return env, web


@dataclass
class Workers:
    """The two `flask dsr worker` processes of one phase."""

    procs: list[subprocess.Popen]
    logs: list[Path]

    @classmethod
    def start(cls, stack, tmp: Path, env: dict, redis: Redis, phase: str) -> "Workers":
        """Start them and wait until both have registered with Redis."""
        logs = [tmp / f"worker-{phase}-{n}.log" for n in range(1, WORKERS + 1)]
        workers = cls([spawn(stack, WORKER, log, cwd=ROOT, env=env) for log in logs], logs)
        deadline = time.monotonic() + 30
        while Worker.count(connection=redis) < WORKERS:
            workers.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not register within 30 s{workers.output()}")
            time.sleep(0.05)
        return workers

    def check(self) -> None:
        if any(proc.poll() is not None for proc in self.procs):
            raise RuntimeError(f"a worker stopped{self.output()}")

    def output(self) -> str:
        return "".join(f"\n--- {log.name}:\n{tail(log)}" for log in self.logs)

    def stop(self) -> None:
        """SIGTERM: each finishes its current job, then leaves."""
        for proc in self.procs:
            stop(proc)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Drain:
    """How the workers got through one phase's jobs, from RQ's timestamps."""

    jobs: int
    #: first job's start to last job's end
    seconds: float
    #: seconds x workers / jobs: what one job cost the pair of workers
    cost_ms: float
    p50_ms: float
    p95_ms: float


def drain_of(redis: Redis, job_ids: list[str]) -> tuple[Drain, list[Job]]:
    """The drain of these jobs, which must all have run; and the jobs."""
    jobs = []
    for i in range(0, len(job_ids), FETCH_CHUNK):
        jobs += Job.fetch_many(job_ids[i : i + FETCH_CHUNK], connection=redis)
    ran = [job for job in jobs if job is not None and job.started_at and job.ended_at]
    if len(ran) < len(job_ids):
        raise RuntimeError(
            f"{len(job_ids) - len(ran)} of {len(job_ids)} jobs have no start and end in Redis "
            "(gone after RQ's result_ttl of 500 s, or never run)"
        )
    seconds = (max(j.ended_at for j in ran) - min(j.started_at for j in ran)).total_seconds()
    durations = [(j.ended_at - j.started_at).total_seconds() * 1000 for j in ran]
    return Drain(
        len(ran),
        seconds,
        seconds * 1000 * WORKERS / len(ran),
        percentile(durations, 0.50),
        percentile(durations, 0.95),
    ), ran


def bare_phase(app, stack, tmp: Path, env: dict, count: int, deadline: float) -> Drain:
    """Queue `count` no-op jobs as task jobs are queued, then let two workers drain them."""
    with app.app_context():
        crm_job = processing.job_spec(Task(id=new_task_id(), connector="crm", action="access"))
        bare = {**crm_job, "func": nothing, "args": (), "description": "bare job"}
        specs = [{**bare, "job_id": new_task_id()} for _ in range(count)]
        job_ids = [job.id for job in enqueue_many(specs)]
    redis = Redis.from_url(env["REDIS_URL"])
    queue = Queue(processing.QUEUE, connection=redis)
    workers = Workers.start(stack, tmp, env, redis, "bare")
    until = time.monotonic() + deadline
    while queue.finished_job_registry.count + queue.failed_job_registry.count < count:
        workers.check()
        if time.monotonic() > until:
            raise RuntimeError(f"the bare jobs took more than {deadline:g} s")
        time.sleep(POLL)
    workers.stop()
    drain, jobs = drain_of(redis, job_ids)
    failed = [job.id for job in jobs if job.get_status(refresh=False) != JobStatus.FINISHED]
    if failed:
        raise RuntimeError(f"{len(failed)} bare job(s) did not finish{workers.output()}")
    return drain


def create_requests(app, count: int) -> list[int]:
    """`count` verified (open) access requests, for the demo people in turn; their ids.

    Each phone number is proven (as a handler would), so that the SMS platform,
    which knows people by phone only, is asked too.
    """
    ids = []
    for i in range(count):
        person = PEOPLE[i % len(PEOPLE)]
        with app.app_context():
            request = create_request(
                {
                    "type": "access",
                    "email": person.email,
                    "name": person.name,
                    "identifiers": {"phone": person.phone},
                    "details": {},
                    "language": "fr",
                }
            )
            verify(request, request.verify_nonce)
            claims.prove_by_handler(
                request, "phone", person.phone, note="benchmark", actor="staff:benchmark"
            )
            db.session.commit()
            ids.append(request.id)
    return ids


def wait_for_review(database_url: str, workers: Workers, web: Server, deadline: float) -> None:
    """Poll until no request is outside `review`; fail if a process dies or time runs out."""
    until = time.monotonic() + deadline
    query = text("SELECT count(*) FROM requests WHERE status != 'review'")
    engine = create_engine(database_url)  # without the engine's listeners: no write lock
    try:
        while True:
            with engine.connect() as connection:  # a new transaction each time: fresh data
                left = connection.execute(query).scalar_one()
            if left == 0:
                return
            workers.check()
            web.check()
            if time.monotonic() > until:
                raise RuntimeError(f"{left} request(s) not in review after {deadline:g} s")
            time.sleep(POLL)
    finally:
        engine.dispose()


@dataclass
class TaskRow:
    """What the figures need of a task, read once the run is over."""

    id: str
    connector: str
    status: str
    attempts: int
    connector_ms: int | None
    last_error: str | None


@dataclass
class Engine:
    """The engine phase's figures; `failed` holds the tasks that did not succeed."""

    requests: int
    tasks: int
    callbacks: int
    #: tasks that needed more than one attempt
    retried: int
    fan_out_s: float
    review_s: float
    tasks_per_s: float
    drain: Drain
    connector_mean_ms: float
    connector_p50_ms: float
    connector_p95_ms: float
    overhead_ms: float
    failed: list


def engine_phase(app, stack, tmp: Path, env: dict, web: Server, opts) -> Engine:
    """Start every request, then two workers; time until all are in review.

    The tasks are all enqueued before the workers start, as the bare jobs are,
    so that both drains are measured the same way.
    """
    ids = create_requests(app, opts.requests)
    redis = Redis.from_url(env["REDIS_URL"])
    t0 = time.perf_counter()
    for request_id in ids:
        with app.app_context():
            processing.start(db.session.get(DataRequest, request_id), actor="benchmark")
    fan_out = time.perf_counter() - t0
    workers = Workers.start(stack, tmp, env, redis, "engine")
    wait_for_review(env["DATABASE_URL"], workers, web, opts.deadline)
    review = time.perf_counter() - t0
    workers.stop()
    with app.app_context():
        tasks = [
            TaskRow(t.id, t.connector, t.status, t.attempts, t.connector_ms, t.last_error)
            for t in db.session.scalars(select(Task))
        ]
    drain, _ = drain_of(redis, [t.id for t in tasks])
    connector = [t.connector_ms for t in tasks if t.connector_ms is not None]
    mean = sum(connector) / len(connector) if connector else 0.0
    finished = [t for t in tasks if t.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)]
    return Engine(
        requests=len(ids),
        tasks=len(tasks),
        callbacks=sum(t.connector == "sms" and t.status == TaskStatus.SUCCEEDED for t in tasks),
        retried=sum(t.attempts > 1 for t in tasks),
        fan_out_s=fan_out,
        review_s=review,
        tasks_per_s=len(finished) / review,
        drain=drain,
        connector_mean_ms=mean,
        connector_p50_ms=percentile(connector, 0.50),
        connector_p95_ms=percentile(connector, 0.95),
        overhead_ms=drain.cost_ms - mean,
        failed=[asdict(t) for t in tasks if t.status != TaskStatus.SUCCEEDED],
    )


def trouble(tmp: Path) -> list[str]:
    """Log lines of the run's processes that look like errors (Redis's excepted)."""
    lines = []
    for log in sorted(tmp.glob("*.log")):
        if log.name != "redis.log":
            text = log.read_text(errors="replace").splitlines()
            lines += [f"{log.name}: {line}" for line in text if TROUBLE.search(line)]
    return lines


# -- reporting ---------------------------------------------------------------------------------


def verdict(bare: Drain, engine: Engine) -> dict:
    ratio = engine.overhead_ms / bare.cost_ms if bare.cost_ms else float("inf")
    checks = {"ratio": ratio <= MAX_RATIO, "all_succeeded": not engine.failed}
    return {"ratio": ratio, "checks": checks, "pass": all(checks.values())}


def print_report(bare: Drain, engine: Engine, outcome: dict, problems: list[str]) -> None:
    print(
        f"{'2 workers':<13} {'jobs':>6} {'drain s':>8} {'cost ms/job':>11} "
        f"{'job p50 ms':>10} {'job p95 ms':>10}"
    )
    for name, d in (("bare no-op", bare), ("engine task", engine.drain)):
        print(
            f"{name:<13} {d.jobs:>6} {d.seconds:>8.1f} {d.cost_ms:>11.2f} "
            f"{d.p50_ms:>10.2f} {d.p95_ms:>10.2f}"
        )
    e = engine
    print(
        f"requests: {e.requests} access, {e.tasks} tasks, {e.callbacks} SMS callbacks taken, "
        f"{e.retried} task(s) retried, {len(e.failed)} not succeeded"
    )
    print(
        f"fan-out (plan + commit + enqueue): {e.fan_out_s:.1f} s "
        f"({e.fan_out_s * 1000 / max(1, e.requests):.1f} ms per request)"
    )
    print(f"every request in review after: {e.review_s:.1f} s")
    print(f"tasks per second: {e.tasks_per_s:.1f}")
    print(
        f"connector time per task: mean {e.connector_mean_ms:.2f} ms, "
        f"p50 {e.connector_p50_ms:.0f} ms, p95 {e.connector_p95_ms:.0f} ms"
    )
    print(
        f"engine overhead per task: {e.overhead_ms:.2f} ms "
        f"(cost {e.drain.cost_ms:.2f} - connector {e.connector_mean_ms:.2f})"
    )
    print(
        f"ratio engine overhead / bare job: {outcome['ratio']:.2f} (target <= {MAX_RATIO:.0f}) "
        f"{'ok' if outcome['checks']['ratio'] else 'MISSED'}"
    )
    for task in e.failed[:SHOWN]:
        print(f"  task {task['connector']} {task['id']} {task['status']}: {task['last_error']}")
    for line in problems[:SHOWN]:
        print(f"  log: {line}")
    if len(problems) > SHOWN:
        print(f"  log: ... {len(problems) - SHOWN} more such line(s)")
    print("PASS" if outcome["pass"] else "FAIL")


def benchmark(opts) -> tuple[Drain, Engine, list[str]]:
    with tempfile.TemporaryDirectory(prefix="dsr-fanout-") as name, contextlib.ExitStack() as stack:
        tmp = Path(name)
        env, web = serve(stack, tmp, opts)
        os.environ.update(env)  # this process enqueues and plans with the same settings
        app = create_app()
        tasks = opts.requests * len(app.extensions["dsr.connectors"])
        bare = bare_phase(app, stack, tmp, env, tasks, opts.deadline)
        engine = engine_phase(app, stack, tmp, env, web, opts)
        return bare, engine, trouble(tmp)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="access requests to start")
    parser.add_argument(
        "--sms-delay", type=float, default=1.0, help="seconds before the SMS platform calls back"
    )
    parser.add_argument("--deadline", type=float, default=1800, help="seconds allowed per phase")
    parser.add_argument(
        "--database", choices=DATABASES, default="sqlite", help="the engine's database"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    opts = parser.parse_args(argv)
    if not 1 <= opts.requests <= 100_000 or opts.sms_delay < 0 or opts.deadline <= 0:
        parser.error("--requests must be 1..100000, --sms-delay >= 0, --deadline > 0")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    try:
        bare, engine, problems = benchmark(opts)
    except RuntimeError as exc:  # a process that would not start, a phase out of time...
        print(f"fanout: {exc}", file=sys.stderr)
        return 2
    outcome = verdict(bare, engine)
    if opts.json:
        print(
            json.dumps(
                {
                    "bare": asdict(bare),
                    "engine": asdict(engine),
                    **outcome,
                    "database": opts.database,
                    "log_trouble": problems,
                    "targets": {"max_ratio": MAX_RATIO},
                },
                indent=2,
            )
        )
    else:
        print(f"database: {opts.database}")
        print_report(bare, engine, outcome, problems)
    return 0 if outcome["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
