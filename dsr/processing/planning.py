"""Planning: a request becomes tasks, and tasks become RQ jobs.

A task is stored and committed before its job is queued, so that a job never
names a task the database does not hold; an enqueue that fails leaves the
task `pending` for the reconciliation.
"""

import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry

import workflows
from connectors.matching import Subject
from dsr import audit, systems
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, Task, TaskStatus
from dsr.models.types import utcnow
from dsr.operations import InvalidTransition, transition_to
from dsr.processing.finishing import finish_if_done
from dsr.queue import enqueue_many
from dsr.status import RequestStatus
from dsr.task_status import compare_and_set

logger = logging.getLogger(__name__)
T = TaskStatus
S = RequestStatus

#: the queue task jobs go to (mail has its own, so a fan-out never delays an email)
QUEUE = "connectors"
#: what a task's job runs, by import path: jobs already in Redis name it, so it stays importable
JOB_FUNCTION = "dsr.processing.run_task_job"
#: seconds a job may run beyond the connector's own timeout before RQ stops it
JOB_MARGIN = 30
#: a `pending` task younger than this may still be on its way to the queue
PENDING_GRACE = timedelta(minutes=1)


def auto_start_types() -> set[str]:
    """The types that may start without a handler: the instance's list, else the types' own."""
    configured = current_app.config["INSTANCE"].get("processing", {}).get("auto_start")
    if configured is None:
        return {d.name for d in workflows.definitions() if d.auto_start}
    return set(configured)


def starts_itself(request: DataRequest) -> bool:
    """Whether processing starts once the request is verified (access: yes; erasure: no)."""
    definition = workflows.get(request.type)
    details, decisions = request.details or {}, request.decisions or {}
    return (
        request.type in auto_start_types()
        and definition.starts_itself(details)
        and not definition.missing_decision(details, decisions)
    )


def subject_of(request: DataRequest) -> Subject:
    """Who connectors look for: the verified email and the proven identifiers only."""
    return claims.proven_subject(request)


def plan(request: DataRequest) -> list[Task]:
    """One task per (connector, action) the request's workflow asks for.

    A task is born `pending`, or `skipped` when the request gives nothing its
    system finds people by; from there it moves through `dsr.task_status`.
    """
    subject = subject_of(request)
    definition = workflows.get(request.type)
    case = systems.case_of(request)
    tasks = []
    for step in definition.plan(systems.all_connectors().values(), case):
        task = Task(
            connector=step.connector.name,
            action=step.action,
            details=dict(step.details),
            status=T.PENDING,
            attempts=0,
        )
        skip_reason = step.skip_reason
        if skip_reason is None and not step.connector.can_match(subject):
            skip_reason = claims.unmatched_reason(request, step.connector.match_on)
        if skip_reason is not None:  # born finished: no transition
            task.status, task.finished_at, task.outcome = T.SKIPPED, utcnow(), skip_reason
        request.tasks.append(task)
        tasks.append(task)
    return tasks


class DecisionNeeded(Exception):
    """Processing cannot start before a handler's decision; the message says which."""


def start(request: DataRequest, *, actor: str) -> list[Task]:
    """open -> processing: plan the tasks, commit, then hand them to the workers.

    Raises InvalidTransition if the request is not `open`, DecisionNeeded if its type
    waits for a handler's decision (`dsr.decisions`).
    """
    db.session.refresh(request, with_for_update=True)  # two handlers clicking at once
    if request.status != S.OPEN:
        raise InvalidTransition(f"{request.ref}: processing starts only from open")
    needed = workflows.get(request.type).missing_decision(
        request.details or {}, request.decisions or {}
    )
    if needed:
        raise DecisionNeeded(str(needed))
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
    enqueues them; the mark is a compare-and-set because a fast worker may
    already have claimed one (pending -> running), or a withdrawal cancelled it.
    """
    if not tasks:
        return
    try:
        enqueue_many([job_spec(t) for t in tasks])
    except RedisError as exc:
        logger.warning("could not enqueue %d task(s), the reconciliation will: %s", len(tasks), exc)
        return
    compare_and_set([t.id for t in tasks], [T.PENDING], T.QUEUED)
    db.session.commit()


def job_spec(task: Task) -> dict:
    """How `dsr.queue.enqueue_many` puts a task's job on the queue."""
    connector = systems.get(task.connector)
    retries = connector.retries if connector else 0
    intervals = [int(connector.backoff * 2**n) for n in range(retries)] if connector else []
    return {
        "func": JOB_FUNCTION,
        "args": (task.id,),
        "queue": QUEUE,
        "job_id": task.id,
        "retry": Retry(max=retries, interval=intervals) if retries else None,
        "job_timeout": int((connector.timeout if connector else 30) + JOB_MARGIN),
        "description": f"task {task.connector}.{task.action} {task.id}",
    }
