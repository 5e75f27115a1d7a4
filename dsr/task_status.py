"""Task statuses: the one table of allowed transitions, and the one place that moves a task.

As `dsr.status` and `dsr.operations.transition_to` do for requests: `move`
checks the table, stamps the time the new status is about and writes the
audit event where one is due; the caller commits.

    pending --dispatch--> queued --claim--> running --> succeeded | failed
    pending --claim (before the dispatch marked it)--> running
    running --the system will call back--> waiting_callback --answer--> succeeded | failed
    running --attempt failed, RQ retries it after the backoff--> queued
    queued, running --reconciliation (its job was lost)--> pending
    failed --a handler's retry--> pending
    succeeded, skipped --a handler's rerun with identifiers proven since--> pending
    pending, queued, running, waiting_callback --request withdrawn, rejected, expired--> cancelled
    skipped: written at planning (the request gives nothing this system matches on)

Two moves happen for every task, often at once in several processes, without
a lock, and are compare-and-set UPDATEs instead (`compare_and_set`): the
dispatch (pending -> queued, after the enqueue) and a worker's claim (pending
| queued -> running). Each is a transition of the table, checked when the
statement is built, and changes only rows still in a status it may leave: of
two writers, one wins and the other changes nothing. Every other move reads
the task again under the write lock first (`dsr.processing.finishing.lock`).
"""

import logging
from collections.abc import Iterable

from redis.exceptions import RedisError
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from dsr import audit, queue
from dsr.extensions import db
from dsr.models import FINISHED, DataRequest, Task, TaskStatus
from dsr.models.types import utcnow

logger = logging.getLogger(__name__)
T = TaskStatus

#: status -> the statuses it may move to; a finished status has none, except a handler's
#: retry (failed) or rerun with newly proven identifiers (succeeded, skipped)
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    T.PENDING: frozenset({T.QUEUED, T.RUNNING, T.CANCELLED}),
    T.QUEUED: frozenset({T.RUNNING, T.PENDING, T.CANCELLED}),
    T.RUNNING: frozenset(
        {T.QUEUED, T.PENDING, T.WAITING_CALLBACK, T.SUCCEEDED, T.FAILED, T.CANCELLED}
    ),
    T.WAITING_CALLBACK: frozenset({T.SUCCEEDED, T.FAILED, T.CANCELLED}),
    T.FAILED: frozenset({T.PENDING}),
    T.SUCCEEDED: frozenset({T.PENDING}),
    T.SKIPPED: frozenset({T.PENDING}),
    T.CANCELLED: frozenset(),
}

#: the column stamped with the time a task enters a status
STAMPS = {T.QUEUED: "queued_at", T.RUNNING: "started_at", T.WAITING_CALLBACK: "waiting_since"}

#: the audit events of the moves that are not a finish (each finish is `task.<status>`)
EVENTS = {
    (T.RUNNING, T.QUEUED): "task.attempt_failed",
    (T.QUEUED, T.PENDING): "task.requeued",
    (T.RUNNING, T.PENDING): "task.requeued",
    (T.FAILED, T.PENDING): "task.retried",
    (T.SUCCEEDED, T.PENDING): "task.rerun",
    (T.SKIPPED, T.PENDING): "task.rerun",
}

#: session.info key: the ids of cancelled tasks whose jobs go once the transaction commits
JOBS_TO_CANCEL = "dsr.task_status.jobs_to_cancel"


class InvalidTaskTransition(Exception):
    """A task status change the transition table does not allow."""


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    """Whether a task in `current` may move to `target`."""
    return target in TRANSITIONS[current]


def event_kind(current: TaskStatus, target: TaskStatus) -> str | None:
    """The audit event a move writes, if any (dispatch, claim and wait write none)."""
    if target in FINISHED:
        return f"task.{target}"
    return EVENTS.get((current, target))


def move(task: Task, target: TaskStatus, *, actor: str, **data) -> None:
    """Move `task` to `target` if the table allows it; stamp it and write its audit event.

    `data` goes into the event beside the task's id. Raises InvalidTaskTransition.
    """
    current = task.status_enum
    if not can_transition(current, target):
        raise InvalidTaskTransition(f"task {task.id}: {current} -> {target} is not allowed")
    now = utcnow()
    task.status = target
    if target in STAMPS:
        setattr(task, STAMPS[target], now)
    if target in FINISHED:
        task.finished_at = now
    elif target is T.PENDING:
        task.finished_at = None
    kind = event_kind(current, target)
    if kind:
        audit.record(kind, actor=actor, request_id=task.request_id, data={"task": task.id, **data})


def compare_and_set(
    task_ids: Iterable[str], sources: Iterable[TaskStatus], target: TaskStatus, **values
) -> int:
    """UPDATE the tasks still in one of `sources` to `target` (and `values`); how many moved.

    For the moves that write no audit event (dispatch, claim, wait): every
    source -> target pair must be in the table.
    """
    sources = tuple(sources)
    for source in sources:
        if not can_transition(source, target) or event_kind(source, target):
            raise InvalidTaskTransition(f"{source} -> {target} is not a compare-and-set move")
    if target in STAMPS:
        values.setdefault(STAMPS[target], utcnow())
    statement = (
        update(Task)
        .where(Task.id.in_(list(task_ids)), Task.status.in_(sources))
        .values(status=target, **values)
    )
    return db.session.execute(statement).rowcount


def cancel_unfinished(request: DataRequest, *, actor: str, reason: str) -> list[Task]:
    """Cancel every task of `request` not finished yet (in the caller's transaction).

    Their RQ jobs are taken off the queues once the transaction commits; a
    job that a worker already runs finds its task cancelled and keeps
    nothing it got (`dsr.processing.running`).
    """
    query = (
        select(Task)
        .where(Task.request_id == request.id, Task.status.not_in(FINISHED))
        .with_for_update()
    )
    tasks = db.session.scalars(query, execution_options={"populate_existing": True}).all()
    for task in tasks:
        move(task, T.CANCELLED, actor=actor, reason=reason)
    db.session.info.setdefault(JOBS_TO_CANCEL, []).extend(task.id for task in tasks)
    return list(tasks)


@event.listens_for(Session, "after_commit")
def _cancel_jobs(session: Session) -> None:
    ids = session.info.pop(JOBS_TO_CANCEL, None)
    if not ids:
        return
    try:
        queue.cancel_jobs(ids)
    except RedisError as exc:  # a worker that claims one of them will find it cancelled
        logger.warning("could not take %d cancelled task(s) off the queue: %s", len(ids), exc)


@event.listens_for(Session, "after_rollback")
def _keep_jobs(session: Session) -> None:
    session.info.pop(JOBS_TO_CANCEL, None)
