"""RQ glue in one place: the connection, the queues, enqueueing, the worker and cron.

Jobs take ids, never ORM objects, and run inside a fresh app context each
(`AppJob`), so a job sees the same configuration and database as the web app.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.job import Job, JobStatus

logger = logging.getLogger(__name__)

#: every queue the app uses; the worker listens on all of them, in this order
QUEUES = ("mail", "default", "connectors")


class AppJob(Job):
    """A job that runs inside an application context of the worker's app."""

    #: the app the worker serves, set by `run_worker` before it starts
    flask_app: Flask | None = None

    def perform(self):
        if AppJob.flask_app is None:
            raise RuntimeError("AppJob.flask_app is not set: start workers with `flask dsr worker`")
        with AppJob.flask_app.app_context():
            return super().perform()


def init_app(app: Flask) -> None:
    """Open the app's Redis connection (lazily: redis-py connects on first use)."""
    app.extensions["dsr.redis"] = Redis.from_url(app.config["REDIS_URL"])


def redis_connection() -> Redis:
    return current_app.extensions["dsr.redis"]


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection(), job_class=AppJob)


def enqueue(
    func: Callable,
    *args,
    queue: str = "default",
    job_id: str | None = None,
    retries: int = 0,
    description: str | None = None,
    **kwargs,
) -> Job:
    """Put `func(*args, **kwargs)` on a queue; `retries` back off 10 s, 1 min, 5 min...

    `description` replaces RQ's default, which would print the arguments
    (signed links among them) in the worker's log.
    """
    retry = Retry(max=retries, interval=[10, 60, 300, 900]) if retries else None
    spec = {"func": func, "args": args, "kwargs": kwargs, "queue": queue, "job_id": job_id}
    return enqueue_many([{**spec, "retry": retry, "description": description}])[0]


def enqueue_many(specs: list[dict]) -> list[Job]:
    """Enqueue several jobs in one pipeline: one round trip to Redis, whatever their number.

    Each spec holds `func` and optionally `args`, `kwargs`, `queue` and the
    options of RQ's `Queue.enqueue_call` (`job_id`, `retry`, `job_timeout`,
    `description`).
    """
    jobs = []
    with redis_connection().pipeline() as pipe:
        for spec in specs:
            options = dict(spec)
            func, queue = options.pop("func"), options.pop("queue", "default")
            timeout = options.pop("job_timeout", None)
            jobs.append(
                get_queue(queue).enqueue_call(func, timeout=timeout, pipeline=pipe, **options)
            )
        pipe.execute()
    return jobs


#: job statuses in which a job has not started yet: cancelling it means taking it away
NOT_STARTED = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def cancel_jobs(job_ids: list[str]) -> int:
    """Delete the jobs that have not started yet; returns how many.

    A job that a worker is running is left to finish: RQ cannot stop a job
    inside a worker that runs it in process, and the job's own code checks
    that its work is still wanted.
    """
    connection = redis_connection()
    waiting = [
        job
        for job in Job.fetch_many(job_ids, connection=connection)
        if job is not None and job.get_status(refresh=False) in NOT_STARTED
    ]
    for job in waiting:
        job.delete()
    return len(waiting)


def run_worker(app: Flask, burst: bool = False, fork: bool = False) -> bool:
    """Work every queue; the built-in scheduler runs jobs enqueued for later.

    Jobs run in the worker's own process by default (RQ's SimpleWorker): the
    database connection, the connectors' pools and SQLAlchemy's compiled
    statements stay warm from one job to the next, where a forking worker
    starts every job cold (about 17 ms per job measured by
    benchmarks/fanout.py). Time limits still hold (SIGALRM), and a worker that
    dies mid-job loses nothing: the reconciliation enqueues its task again.
    `fork=True` isolates each job in a child process instead.
    """
    AppJob.flask_app = app
    worker_class = Worker if fork else SimpleWorker
    queues = [get_queue(name) for name in QUEUES]
    worker = worker_class(queues, connection=redis_connection(), job_class=AppJob)
    return worker.work(
        burst=burst, with_scheduler=not burst, logging_level="WARNING" if burst else "INFO"
    )


def run_cron(jobs: list[tuple[Callable, int]]) -> None:
    """Enqueue the periodic jobs, (function, interval in seconds), until stopped.

    `flask dsr cron` passes `dsr.periodic.PERIODIC_JOBS`; this module imports
    nothing that runs a job, so that the jobs' modules may import it.
    """
    scheduler = CronScheduler(connection=redis_connection())
    for func, seconds in jobs:
        scheduler.register(func, queue_name="default", interval=seconds)
    scheduler.start()
