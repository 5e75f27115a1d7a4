"""Run again, with the identifiers proven since, the tasks that could now find more.

A request whose tasks ran on the email alone (the phone was not proven yet)
reaches `review` with the phone's systems skipped. Once an identifier is
proven, a handler may run again every finished task (skipped or done) of a
system that matches on its kind and ran before the proof; the request goes
back to `processing` and to `review` when they are done. The request row is
locked first, as `processing.start` does: of two clicks at once, the second
finds the request in `processing` and nothing to run.
"""

from flask_babel import gettext as _

from dsr import audit, processing, systems
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, Task, TaskStatus
from dsr.operations import transition_to
from dsr.status import RequestStatus
from dsr.task_status import move

T = TaskStatus


def rerunnable(request: DataRequest) -> list[Task]:
    """The tasks a "run again with the proven identifiers" would run (none outside review)."""
    if request.status != RequestStatus.REVIEW:
        return []
    proofs = [i.claim for i in claims.identifiers(request) if i.is_proven]
    subject = claims.proven_subject(request)
    found = []
    for task in request.tasks:
        connector = systems.get(task.connector)
        if task.status not in (T.SKIPPED, T.SUCCEEDED) or connector is None:
            continue
        if task.action not in connector.actions:  # skipped: the system cannot do it
            continue
        newer = any(
            proof.kind in connector.match_on and proof.decided_at > task.finished_at
            for proof in proofs
        )
        if newer and connector.can_match(subject):
            found.append(task)
    return found


def rerun(request: DataRequest, *, actor: str) -> list[Task]:
    """review -> processing with the tasks of `rerunnable`, queued again."""
    db.session.refresh(request, with_for_update=True)  # two handlers clicking at once
    tasks = rerunnable(request)
    if not tasks:
        raise processing.NotAllowed(
            _("No task would find more with the identifiers proven since it ran.")
        )
    transition_to(
        request, RequestStatus.PROCESSING, actor=actor, reason="run again with proven identifiers"
    )
    for task in tasks:
        move(task, T.PENDING, actor=actor, reason="identifiers proven since it ran")
        task.attempts, task.outcome, task.last_error = 0, None, None
    audit.record(
        "identity.tasks_rerun",
        actor=actor,
        request_id=request.id,
        data={"tasks": [f"{t.connector}.{t.action}" for t in tasks]},
    )
    db.session.commit()
    processing.dispatch(tasks)
    return tasks
