"""Running a task: the RQ job that claims it, calls its connector and records what came of it.

A job carries only the task's id (which is also the job's id). The claim is
conditional, so a duplicate job, or one whose task was cancelled meanwhile,
does nothing. No transaction is open while a system is called; afterwards
the task is read again under the write lock, and if it was cancelled during
the call (its request withdrawn) nothing the system returned is kept.
"""

import logging
import time

from connectors.base import PENDING, Connector, ConnectorError, TaskOrder
from connectors.redact import redact_text
from dsr import systems
from dsr.extensions import db
from dsr.identity import withheld
from dsr.models import Task, TaskStatus
from dsr.processing.finishing import fail, lock, succeed
from dsr.processing.planning import subject_of
from dsr.task_status import compare_and_set, move
from dsr.urls import external_url

logger = logging.getLogger(__name__)
T = TaskStatus


class AttemptFailed(Exception):
    """Raised from a job so that RQ retries it after the connector's backoff."""


def claim(task_id: str) -> tuple[Task, TaskOrder] | None:
    """Mark a waiting task `running`, count the attempt, and read what the connector needs.

    One transaction. The claim is a compare-and-set (pending | queued ->
    running): a duplicate job (re-enqueued by the reconciliation while the
    first still ran) or the job of a cancelled task does nothing: None then.
    """
    claimed = compare_and_set(
        [task_id], [T.PENDING, T.QUEUED], T.RUNNING, attempts=Task.attempts + 1, last_error=None
    )
    if not claimed:
        db.session.commit()
        return None
    task = db.session.get(Task, task_id, populate_existing=True)
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
        details=task.details or {},
        callback_url=external_url("callbacks.receive", task_id=task.id),
    )


def run_task_job(task_id: str) -> str:
    """Carry out one task with its connector (the job's body); returns the task's status."""
    claimed = claim(task_id)
    if claimed is None:
        logger.info("task %s is not waiting to run; nothing to do", task_id)
        return "not waiting"
    task, order = claimed
    began = time.perf_counter()
    connector = systems.get(task.connector)
    if connector is None:
        if still_running(task, began):
            fail(task, f"the connector {task.connector!r} is no longer configured", actor="system")
        return task.status
    with withheld.writer(task) as sink:
        try:
            outcome = connector.run(order, sink)
        except ConnectorError as exc:
            return attempt_failed(task, connector, str(exc), began)
        except Exception as exc:  # noqa: BLE001 - a bug in a connector must not lose the task
            logger.exception("connector %s crashed on task %s", connector.name, task.id)
            error = redact_text(f"unexpected error: {type(exc).__name__}: {exc}")
            return attempt_failed(task, connector, error, began)
        if not still_running(task, began):
            return task.status  # cancelled (or answered by a callback): the files go
        if outcome is PENDING:
            await_callback(task)
        else:
            succeed(task, sink.commit(), outcome.outcome, actor=f"connector:{connector.name}")
    return task.status


def still_running(task: Task, began: float) -> bool:
    """Lock the task after the system's call and note the call's time; False if it moved on."""
    lock(task)
    task.connector_ms = round((time.perf_counter() - began) * 1000)
    if task.status == T.RUNNING:
        return True
    logger.info("task %s is %s now; what its system returned is not kept", task.id, task.status)
    db.session.commit()
    return False


def attempt_failed(task: Task, connector: Connector, error: str, began: float) -> str:
    """Record a failed attempt: retried later while attempts remain, else the task fails."""
    if not still_running(task, began):
        return task.status
    error = error[:2000]
    if task.attempts > connector.retries:
        fail(task, error, actor=f"connector:{connector.name}")
        return task.status
    task.last_error = error
    move(task, T.QUEUED, actor=f"connector:{connector.name}", attempt=task.attempts, error=error)
    db.session.commit()
    raise AttemptFailed(f"{connector.name}: {error}")


def await_callback(task: Task) -> None:
    """The system accepted the task; its answer comes through the callback endpoint.

    The task is locked and still `running` (`still_running`): a system quick
    enough to call back during the call has finished it, and then this is
    not reached.
    """
    move(task, T.WAITING_CALLBACK, actor=f"connector:{task.connector}")
    db.session.commit()
