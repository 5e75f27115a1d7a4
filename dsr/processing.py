"""Processing: a request becomes tasks, tasks become RQ jobs, answers come back.

The life of a task, all of it here:

    pending --enqueued--> queued --worker--> running --+--> succeeded
       ^                    ^                          +--> waiting_callback --callback--> succeeded
       |                    +----- attempt failed -----+                      \\-> failed
       +-- reconciliation (a job that vanished)        +--> failed (no attempts left)
    skipped: the request gives nothing this system can match on

The database is the source of truth; a job only carries a task id (which is
also its RQ job id). Everything that could lose a job (Redis restarted, a
worker killed, an enqueue that failed after the commit) leaves a task
`pending`, `queued` or `running` without a live job, and `reconcile`, every
minute, enqueues it again. When the last task of a request finishes, the
request moves to `review`, in the same transaction.
"""

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

import workflows
from connectors.answer import read_answer
from connectors.base import PENDING, Connector, ConnectorError, TaskOrder
from connectors.matching import Subject
from dsr import audit, systems
from dsr.extensions import db
from dsr.identity import claims, withheld
from dsr.models import FINISHED, DataRequest, Task, TaskStatus
from dsr.models.types import utcnow
from dsr.operations import InvalidTransition, transition_to
from dsr.queue import enqueue_many, redis_connection
from dsr.status import RequestStatus
from dsr.urls import external_url

logger = logging.getLogger(__name__)
T = TaskStatus
S = RequestStatus

#: the queue task jobs go to (mail has its own, so a fan-out never delays an email)
QUEUE = "connectors"
#: seconds a job may run beyond the connector's own timeout before RQ stops it
JOB_MARGIN = 30
#: a `pending` task younger than this may still be on its way to the queue
PENDING_GRACE = timedelta(minutes=1)


class NotAllowed(Exception):
    """A handler's action that the task's state does not allow; the message says why."""


class AttemptFailed(Exception):
    """Raised from a job so that RQ retries it after the connector's backoff."""


# --- planning and starting ------------------------------------------------


def auto_start_types() -> set[str]:
    """The types that may start without a handler: the instance's list, else the types' own."""
    configured = current_app.config["INSTANCE"].get("processing", {}).get("auto_start")
    if configured is None:
        return {d.name for d in workflows.definitions() if d.auto_start}
    return set(configured)


def starts_itself(request: DataRequest) -> bool:
    """Whether processing starts once the request is verified (access: yes; erasure: no)."""
    definition = workflows.get(request.type)
    return request.type in auto_start_types() and definition.starts_itself(request.details)


def subject_of(request: DataRequest) -> Subject:
    """Who connectors look for: the verified email and the proven identifiers only."""
    return claims.proven_subject(request)


def plan(request: DataRequest) -> list[Task]:
    """One task per (connector, action) the request's workflow asks for."""
    subject = subject_of(request)
    definition = workflows.get(request.type)
    tasks = []
    for connector, action in definition.plan(systems.all_connectors().values()):
        task = Task(connector=connector.name, action=action, status=T.PENDING, attempts=0)
        if not connector.can_match(subject):
            task.status, task.finished_at = T.SKIPPED, utcnow()
            task.outcome = claims.unmatched_reason(request, connector.match_on)
        request.tasks.append(task)
        tasks.append(task)
    return tasks


def start(request: DataRequest, *, actor: str) -> list[Task]:
    """open -> processing: plan the tasks, commit, then hand them to the workers.

    Raises InvalidTransition if the request is not `open`.
    """
    db.session.refresh(request, with_for_update=True)  # two handlers clicking at once
    if request.status != S.OPEN:
        raise InvalidTransition(f"{request.ref}: processing starts only from open")
    transition_to(request, S.PROCESSING, actor=actor, reason="processing started")
    tasks = plan(request)
    db.session.flush()
    audit.record(
        "processing.planned",
        actor=actor,
        request_id=request.id,
        data={"tasks": [f"{t.connector}.{t.action}" for t in tasks]},
    )
    finish_if_done(request)
    db.session.commit()
    dispatch([t for t in tasks if t.status == T.PENDING])
    return tasks


def dispatch(tasks: list[Task]) -> None:
    """Enqueue committed `pending` tasks in one round trip, then mark them `queued`.

    If Redis fails here the tasks stay `pending` and the reconciliation
    enqueues them; the mark is conditional because a fast worker may already
    have started one.
    """
    if not tasks:
        return
    try:
        enqueue_many([job_spec(t) for t in tasks])
    except RedisError as exc:
        logger.warning("could not enqueue %d task(s), the reconciliation will: %s", len(tasks), exc)
        return
    db.session.execute(
        update(Task)
        .where(Task.id.in_([t.id for t in tasks]), Task.status == T.PENDING)
        .values(status=T.QUEUED, queued_at=utcnow())
    )
    db.session.commit()


def job_spec(task: Task) -> dict:
    """How `dsr.queue.enqueue_many` puts a task's job on the queue."""
    connector = systems.get(task.connector)
    retries = connector.retries if connector else 0
    intervals = [int(connector.backoff * 2**n) for n in range(retries)] if connector else []
    return {
        "func": run_task_job,
        "args": (task.id,),
        "queue": QUEUE,
        "job_id": task.id,
        "retry": Retry(max=retries, interval=intervals) if retries else None,
        "job_timeout": int((connector.timeout if connector else 30) + JOB_MARGIN),
        "description": f"task {task.connector}.{task.action} {task.id}",
    }


# --- running a task (the RQ job) ------------------------------------------


def claim(task_id: str) -> tuple[Task, TaskOrder] | None:
    """Mark a waiting task `running`, count the attempt, and read what the connector needs.

    One transaction. The update is conditional, so that a duplicate job
    (re-enqueued by the reconciliation while the first still ran) does
    nothing: None then.
    """
    claimed = db.session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_((T.PENDING, T.QUEUED)))
        .values(status=T.RUNNING, attempts=Task.attempts + 1, started_at=utcnow(), last_error=None)
    ).rowcount
    if not claimed:
        db.session.commit()
        return None
    task = db.session.get(Task, task_id, populate_existing=True, options=[joinedload(Task.request)])
    order = order_for(task)
    db.session.commit()  # a transaction holds SQLite's write lock: never across a system's call
    return task, order


def order_for(task: Task) -> TaskOrder:
    request = task.request
    return TaskOrder(
        task_id=task.id,
        request_ref=request.ref,
        action=task.action,
        subject=subject_of(request),
        details=request.details or {},
        callback_url=external_url("callbacks.receive", task_id=task.id),
    )


def run_task_job(task_id: str) -> str:
    """Carry out one task with its connector (the job's body); returns the task's status."""
    claimed = claim(task_id)
    if claimed is None:
        logger.info("task %s is not waiting to run; nothing to do", task_id)
        return "not waiting"
    task, order = claimed
    connector = systems.get(task.connector)
    if connector is None:
        fail(task, f"the connector {task.connector!r} is no longer configured", actor="system")
        return task.status
    began = time.perf_counter()
    try:
        with withheld.writer(task) as sink:
            outcome = connector.run(order, sink)
            counts = sink.commit() if outcome is not PENDING else None
    except ConnectorError as exc:
        return attempt_failed(task, connector, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug in a connector must not lose the task
        logger.exception("connector %s crashed on task %s", connector.name, task.id)
        return attempt_failed(task, connector, f"unexpected error: {type(exc).__name__}: {exc}")
    finally:
        task.connector_ms = round((time.perf_counter() - began) * 1000)
    if outcome is PENDING:
        await_callback(task)
    else:
        succeed(task, counts, outcome.outcome, actor=f"connector:{connector.name}")
    return task.status


def attempt_failed(task: Task, connector: Connector, error: str) -> str:
    """Record a failed attempt: retried later while attempts remain, else the task fails."""
    error = error[:2000]
    if task.attempts <= connector.retries:
        task.status, task.last_error = T.QUEUED, error
        audit.record(
            "task.attempt_failed",
            actor=f"connector:{connector.name}",
            request_id=task.request_id,
            data={"task": task.id, "attempt": task.attempts, "error": error},
        )
        db.session.commit()
        raise AttemptFailed(f"{connector.name}: {error}")
    fail(task, error, actor=f"connector:{connector.name}")
    return task.status


def await_callback(task: Task) -> None:
    """The system accepted the task; its answer comes through the callback endpoint.

    Conditional: a quick system may already have called back.
    """
    db.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == T.RUNNING)
        .values(status=T.WAITING_CALLBACK, waiting_since=utcnow(), connector_ms=task.connector_ms)
    )
    db.session.commit()


# --- finishing ------------------------------------------------------------


def succeed(task: Task, counts: dict[str, int], outcome: str, *, actor: str) -> None:
    task.record_counts, task.outcome, task.last_error = counts, outcome or None, None
    finish(task, T.SUCCEEDED, actor=actor, records=counts, outcome=outcome)


def fail(task: Task, error: str, *, actor: str) -> None:
    task.last_error = error[:2000]
    finish(task, T.FAILED, actor=actor, error=task.last_error)


def finish(task: Task, status: TaskStatus, *, actor: str, **data) -> None:
    """A task's last step: its status, the audit event, maybe the request's review."""
    task.status, task.finished_at = status, utcnow()
    audit.record(
        f"task.{status}",
        actor=actor,
        request_id=task.request_id,
        data={"task": task.id, "connector": task.connector, "action": task.action, **data},
    )
    finish_if_done(task.request)
    db.session.commit()


def finish_if_done(request: DataRequest) -> None:
    """processing -> review once no task is left to finish (in the caller's transaction).

    The caller's transaction holds the write lock (BEGIN IMMEDIATE on SQLite;
    the request row's lock elsewhere), so two tasks finishing at once cannot
    both miss being last.
    """
    db.session.flush()
    counts = dict(
        db.session.execute(
            select(Task.status, func.count())
            .where(Task.request_id == request.id)
            .group_by(Task.status)
        ).all()
    )
    if any(status not in FINISHED for status in counts):
        return
    request = db.session.execute(
        select(DataRequest).where(DataRequest.id == request.id).with_for_update(),
        execution_options={"populate_existing": True},
    ).scalar_one()
    if request.status != S.PROCESSING:
        return
    failed = counts.get(T.FAILED, 0)
    reason = "every system has answered" if not failed else f"{failed} task(s) failed"
    if not counts:
        reason = "no system to ask for this type of request"
    transition_to(request, S.REVIEW, actor="system", reason=reason)


# --- answers through the callback endpoint --------------------------------


def receive_answer(task: Task, body) -> str:
    """A signed callback's body (a binary stream) for `task`; returns the task's status.

    A finished task is left as it is. A malformed body raises MalformedAnswer
    and changes nothing.
    """
    if task.is_finished:
        return "already_finished"
    if task.status not in (T.RUNNING, T.WAITING_CALLBACK):
        raise NotAllowed(
            _("This task is %(status)s: it is not waiting for an answer.", status=task.status)
        )
    actor = f"connector:{task.connector}"
    with withheld.writer(task) as sink:
        answer = read_answer(body, sink)
        db.session.refresh(task)  # from here one writer at a time: a twin callback waits
        if task.is_finished:
            return "already_finished"
        if answer.status == "succeeded":
            succeed(task, sink.commit(), answer.outcome or "", actor=actor)
        else:
            fail(
                task, answer.error or "the system reported a failure without a reason", actor=actor
            )
    return task.status


# --- a handler's actions --------------------------------------------------


def retry(task: Task, *, actor: str) -> None:
    """A failed task runs again from a fresh count of attempts."""
    if task.status != T.FAILED:
        raise NotAllowed(
            _("Only a failed task can be retried; this one is %(status)s.", status=task.status)
        )
    request = task.request
    if request.status == S.REVIEW:
        transition_to(request, S.PROCESSING, actor=actor, reason="a task is retried")
    elif request.status != S.PROCESSING:
        raise NotAllowed(
            _("The request is %(status)s: its tasks can no longer run.", status=request.status)
        )
    previous = task.attempts
    task.status, task.attempts, task.finished_at = T.PENDING, 0, None
    audit.record(
        "task.retried",
        actor=actor,
        request_id=task.request_id,
        data={"task": task.id, "previous_attempts": previous, "last_error": task.last_error},
    )
    db.session.commit()
    dispatch([task])


def done_by_hand(task: Task) -> bool:
    """Whether a person carries the task out (the `manual` kind) and a handler records it."""
    connector = systems.get(task.connector)
    return connector is not None and connector.kind == "manual"


def awaits_outcome(task: Task) -> bool:
    """Whether a handler may record the task's outcome now."""
    return task.status == T.WAITING_CALLBACK and done_by_hand(task)


def record_outcome(task: Task, *, succeeded: bool, note: str, actor: str) -> None:
    """A handler's outcome for a task a person carries out (the `manual` kind)."""
    if not done_by_hand(task):
        raise NotAllowed(_("Only the tasks of a manual connector take an outcome from a handler."))
    if task.status != T.WAITING_CALLBACK:
        raise NotAllowed(
            _("This task is %(status)s: it is not waiting for an outcome.", status=task.status)
        )
    if succeeded:
        succeed(task, {}, note, actor=actor)
    else:
        fail(task, note or "recorded as failed by a handler", actor=actor)


# --- reconciliation -------------------------------------------------------


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


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue tasks whose job vanished; fail callbacks that never came.

    Returns what it did, by kind, for the log.
    """
    now = now or utcnow()
    done = {"requeued": 0, "timed_out": 0, "reviewed": 0}
    waiting = select(Task).where(Task.status.in_((T.PENDING, T.QUEUED, T.RUNNING)))
    candidates = db.session.scalars(waiting).all()
    db.session.commit()  # no write lock held while Redis is asked about each job
    lost = [
        task
        for task in candidates
        if not (task.status == T.PENDING and now - task.created_at < PENDING_GRACE)
        and not job_is_alive(task, now)
    ]
    for task in lost:
        db.session.refresh(task)
        if task.status not in (T.PENDING, T.QUEUED, T.RUNNING):
            continue  # it moved on meanwhile

        if task.status == T.RUNNING:
            task.last_error = "the worker stopped during the task; it runs again"
        task.status = T.PENDING
        audit.record(
            "task.requeued",
            actor="system",
            request_id=task.request_id,
            data={"task": task.id, "reason": "its job was lost (Redis or a worker restarted)"},
        )
    db.session.commit()
    dispatch(lost)
    done["requeued"] = len(lost)

    deadline = now - callback_timeout()
    overdue = select(Task).where(Task.status == T.WAITING_CALLBACK, Task.waiting_since < deadline)
    for task in db.session.scalars(overdue).all():
        if done_by_hand(task):
            continue  # a person does it: the queue shows the wait, nothing fails by itself
        days = callback_timeout().days
        fail(task, f"no answer from {task.connector} within {days} days", actor="system")
        done["timed_out"] += 1

    stuck = select(DataRequest).where(DataRequest.status == S.PROCESSING)
    for request in db.session.scalars(stuck).all():
        before = request.status
        finish_if_done(request)
        if request.status != before:
            done["reviewed"] += 1
    db.session.commit()
    return done
