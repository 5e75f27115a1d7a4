"""Reconciliation, every minute: the database is the source of truth, Redis is repaired from it.

Everything that could lose a job (Redis restarted, a worker killed, an
enqueue that failed after the commit) leaves a task `pending`, `queued` or
`running` without a live job; `reconcile` enqueues it again. It also fails
tasks whose callback never came, moves to review a request whose last
task finished without moving it (a crash between the two), and enqueues again
a release whose job was lost (`dsr.release.answer`).
"""

from datetime import datetime, timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import DataRequest, Task, TaskStatus
from dsr.models.types import utcnow
from dsr.processing.actions import done_by_hand
from dsr.processing.finishing import fail, finish_if_done, lock
from dsr.processing.planning import JOB_MARGIN, PENDING_GRACE, dispatch
from dsr.queue import redis_connection
from dsr.release.answer import reconcile_releases
from dsr.status import RequestStatus
from dsr.task_status import move

T = TaskStatus
S = RequestStatus

#: the statuses in which a task needs a job of its own
NEEDS_A_JOB = (T.PENDING, T.QUEUED, T.RUNNING)


def callback_timeout() -> timedelta:
    days = current_app.config["INSTANCE"].get("processing", {}).get("callback_timeout_days", 7)
    return timedelta(days=days)


def job_is_alive(task: Task, now: datetime) -> bool:
    """Whether the task's RQ job will still run (or is running) by itself."""
    try:
        job = Job.fetch(task.id, connection=redis_connection())
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status == JobStatus.STARTED:
        # A worker killed mid-task leaves its job "started" for ever: past the
        # job's own time limit, nobody is running it any more.
        limit = timedelta(seconds=(job.timeout or 0) + JOB_MARGIN)
        return task.started_at is None or now - task.started_at < limit
    return False


def find_lost(now: datetime) -> list[Task]:
    """The tasks that need a job and have none (Redis is asked outside any transaction)."""
    candidates = db.session.scalars(select(Task).where(Task.status.in_(NEEDS_A_JOB))).all()
    db.session.commit()  # no write lock held while Redis is asked about each job
    return [
        task
        for task in candidates
        if not (task.status == T.PENDING and now - task.created_at < PENDING_GRACE)
        and not job_is_alive(task, now)
    ]


def requeue(lost: list[Task]) -> list[Task]:
    """Put the lost tasks back to `pending`; those that moved on meanwhile are left out."""
    again = []
    for task in lost:
        lock(task)
        if task.status not in NEEDS_A_JOB:
            continue  # finished or cancelled since it was found: it needs no job any more
        if task.status == T.RUNNING:
            task.last_error = "the worker stopped during the task; it runs again"
        if task.status != T.PENDING:
            reason = "its job was lost (Redis or a worker restarted)"
            move(task, T.PENDING, actor="system", reason=reason)
        again.append(task)
    db.session.commit()
    return again


def time_out_callbacks(now: datetime) -> int:
    """Fail the tasks whose system accepted them and never called back; how many."""
    deadline = now - callback_timeout()
    overdue = select(Task).where(Task.status == T.WAITING_CALLBACK, Task.waiting_since < deadline)
    failed = 0
    for task in db.session.scalars(overdue).all():
        if done_by_hand(task):
            continue  # a person does it: the queue shows the wait, nothing fails by itself
        lock(task)
        if task.status != T.WAITING_CALLBACK:
            db.session.commit()
            continue
        days = callback_timeout().days
        fail(task, f"no answer from {task.connector} within {days} days", actor="system")
        failed += 1
    return failed


def review_finished() -> int:
    """Move to review the requests still `processing` whose every task has finished."""
    reviewed = 0
    processing = select(DataRequest).where(DataRequest.status == S.PROCESSING)
    for request in db.session.scalars(processing).all():
        finish_if_done(request)
        reviewed += request.status != S.PROCESSING
    db.session.commit()
    return reviewed


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue tasks whose job vanished; fail callbacks that never came.

    Returns what it did, by kind, for the log.
    """
    now = now or utcnow()
    again = requeue(find_lost(now))
    dispatch(again)
    return {
        "requeued": len(again),
        "timed_out": time_out_callbacks(now),
        "reviewed": review_finished(),
        "releases": reconcile_releases(now),
    }
