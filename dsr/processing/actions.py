"""A handler's actions on a task: retry a failed one, record the outcome of a manual one."""

from flask_babel import gettext as _

from dsr import systems
from dsr.extensions import db
from dsr.models import Task, TaskStatus
from dsr.operations import transition_to
from dsr.processing.finishing import NotAllowed, fail, lock, succeed
from dsr.processing.planning import dispatch
from dsr.status import RequestStatus
from dsr.task_status import move

T = TaskStatus
S = RequestStatus


def retry(task: Task, *, actor: str) -> None:
    """A failed task runs again from a fresh count of attempts."""
    lock(task)  # two handlers pressing Retry at once: the second finds it pending
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
    task.attempts = 0
    move(task, T.PENDING, actor=actor, previous_attempts=previous, last_error=task.last_error)
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
    lock(task)
    if task.status != T.WAITING_CALLBACK:
        raise NotAllowed(
            _("This task is %(status)s: it is not waiting for an outcome.", status=task.status)
        )
    if succeeded:
        succeed(task, {}, note, actor=actor)
    else:
        fail(task, note or "recorded as failed by a handler", actor=actor)
