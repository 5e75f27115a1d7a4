"""Finishing: a task succeeds or fails, and the request moves to review after its last one.

Answers arrive from a worker (a system that answers at once), from the
callback endpoint (a system that calls back) or from a handler (a person
did it). Each re-reads its task under the write lock before it writes, so
that a task cancelled meanwhile (its request withdrawn) keeps nothing.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select

import workflows
from connectors.answer import read_answer
from dsr import directives, recipients, restriction, suppression, systems
from dsr.extensions import db
from dsr.identity import claims, withheld
from dsr.models import FINISHED, DataRequest, Task, TaskStatus
from dsr.operations import transition_to
from dsr.release import answer
from dsr.status import RequestStatus
from dsr.task_status import move

T = TaskStatus
S = RequestStatus


class NotAllowed(Exception):
    """An action that the task's state does not allow; the message says why."""


def lock(task: Task) -> None:
    """Read the task again and hold it until the caller commits (SQLite: the write lock)."""
    db.session.refresh(task, with_for_update=True)


def succeed(task: Task, counts: dict[str, int], outcome: str, *, actor: str) -> None:
    task.record_counts, task.outcome, task.last_error = counts, outcome or None, None
    finish(task, T.SUCCEEDED, actor=actor, records=counts, outcome=outcome)


def fail(task: Task, error: str, *, actor: str) -> None:
    task.last_error = error[:2000]
    finish(task, T.FAILED, actor=actor, error=task.last_error)


def finish(task: Task, status: TaskStatus, *, actor: str, **data) -> None:
    """A task's last step: its status, the audit event, maybe the request's review; commits."""
    move(task, status, actor=actor, connector=task.connector, action=task.action, **data)
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
        restriction.lifted_if_done(request)  # a lifting's tasks finish on a closed request
        return
    failed = counts.get(T.FAILED, 0)
    reason = "every system has answered" if not failed else f"{failed} task(s) failed"
    if not counts:
        reason = "no system to ask for this type of request"
    transition_to(request, S.REVIEW, actor="system", reason=reason)
    if not failed:
        apply_effects(request)


def apply_effects(request: DataRequest) -> None:
    """What the request's type asks for once every task has succeeded (`when_done`)."""
    definition = workflows.get(request.type)
    effects = definition.when_done(systems.case_of(request))
    if "suppress" in effects:
        suppression.record(request)
    if "restrict" in effects:
        restriction.in_force(request)
    if "notify_recipients" in effects:
        recipients.notify(request)
    if "register_directives" in effects:
        directives.register(request)
    done_somewhere = any(task.status == T.SUCCEEDED for task in request.tasks)
    if (
        "release" in effects
        and definition.answer == "pack"
        and done_somewhere
        and not waits_for_proof(request)
    ):
        answer.release_by_itself(request)


def waits_for_proof(request: DataRequest) -> bool:
    """Whether a system was skipped while an identifier it finds people by is still to
    prove: once proven, "run again" may ask it, so the answer is not final yet."""
    pending = {ident.kind for ident in claims.still_to_prove(request)}
    for task in request.tasks:
        connector = systems.get(task.connector)
        if (
            task.status == T.SKIPPED
            and connector is not None
            and task.action in connector.actions
            and pending & set(connector.match_on)
        ):
            return True
    return False


def check_waiting(task: Task) -> str | None:
    """ "already_finished" for a finished task; NotAllowed if it is not waiting for an answer."""
    if task.status == T.CANCELLED:
        raise NotAllowed(
            _("This task was cancelled with its request: it takes no answer any more.")
        )
    if task.is_finished:
        return "already_finished"
    if task.status not in (T.RUNNING, T.WAITING_CALLBACK):
        raise NotAllowed(
            _("This task is %(status)s: it is not waiting for an answer.", status=task.status)
        )
    return None


def receive_answer(task: Task, body) -> str:
    """A signed callback's body (a binary stream) for `task`; returns the task's status.

    A finished task is left as it is ("already_finished"); a cancelled one, or
    one not waiting for an answer, raises NotAllowed. A malformed body raises
    MalformedAnswer (TaskMismatch when it names another task) and changes nothing.
    """
    finished = check_waiting(task)
    if finished:
        return finished
    actor = f"connector:{task.connector}"
    with withheld.writer(task) as sink:
        answer = read_answer(body, sink, task_id=task.id)
        lock(task)  # from here one writer at a time: a twin callback, a withdrawal, wait
        finished = check_waiting(task)
        if finished:
            return finished
        if answer.status == "succeeded":
            succeed(task, sink.commit(), answer.outcome or "", actor=actor)
        else:
            fail(
                task, answer.error or "the system reported a failure without a reason", actor=actor
            )
    return task.status
