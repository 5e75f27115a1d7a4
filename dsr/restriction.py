"""Restriction of processing (Art. 18) after the request: in force, announced, lifted.

A restriction request puts the restriction in force once every system has
restricted the person (`in_force`, from the type's "restrict" effect). Lifting
it is a handler's decision that first tells the person (Art. 18(3)): `announce_lift`
records it and mails the notice; `RESTRICTION_LIFT_NOTICE_DAYS` (14) later the
periodic `lift_due` plans `lift_restriction` on every system that restricted,
and once they have all succeeded the restriction is lifted (`lifted_if_done`).
Every step is an audit event; the queue filters the requests whose restriction
is in force.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dsr import audit, mail
from dsr.decisions import DecisionError, clean_text
from dsr.extensions import db
from dsr.models import DataRequest, Task, TaskStatus
from dsr.models.types import utcnow

T = TaskStatus
LIFT = "lift_restriction"


class RestrictionError(Exception):
    """A lifting that cannot be announced now; the message says why."""


def in_force(request: DataRequest) -> None:
    """Every system has restricted the person (in the caller's transaction); once, however
    often the tasks run again."""
    if request.restricted_at is not None:
        return
    request.restricted_at = utcnow()
    audit.record("restriction.in_force", actor="system", request_id=request.id)


def active(request: DataRequest) -> bool:
    return request.restricted_at is not None and request.restriction_lifted_at is None


def lift_on(request: DataRequest) -> datetime:
    """When an announced lifting takes effect."""
    days = current_app.config["RESTRICTION_LIFT_NOTICE_DAYS"]
    return request.restriction_lift_notified_at + timedelta(days=days)


def announce_lift(request: DataRequest, reason: str, *, actor: str) -> None:
    """Tell the person the restriction will be lifted, and why (Art. 18(3)); the caller
    commits, then calls `send_notice`. RestrictionError if there is nothing to lift."""
    if not active(request):
        raise RestrictionError(_("No restriction is in force for this request."))
    if request.restriction_lift_notified_at is not None:
        raise RestrictionError(_("The lifting of this restriction was already announced."))
    try:
        reason = clean_text(reason)
    except DecisionError as exc:
        raise RestrictionError(str(exc)) from exc
    request.restriction_lift_notified_at = utcnow()
    audit.record(
        "restriction.lift_announced",
        actor=actor,
        request_id=request.id,
        data={"lift_on": lift_on(request).isoformat()},
    )
    request.decisions = {**(request.decisions or {}), "lift_reason": reason}


def send_notice(request: DataRequest) -> None:
    mail.send_later(
        request.id,
        "restriction_lift",
        reason=(request.decisions or {}).get("lift_reason", ""),
        lift_on=lift_on(request),
    )


def lift_due(now: datetime | None = None) -> list[Task]:
    """Plan `lift_restriction` on the systems that restricted, for every announced lifting
    whose notice period is over; commits. Returns the new tasks, for the queue."""
    now = now or utcnow()
    days = current_app.config["RESTRICTION_LIFT_NOTICE_DAYS"]
    due = db.session.scalars(
        select(DataRequest)
        .where(
            DataRequest.restriction_lift_notified_at <= now - timedelta(days=days),
            DataRequest.restriction_lifted_at.is_(None),
        )
        .with_for_update()
    ).all()
    planned = []
    for request in due:
        if any(task.action == LIFT for task in request.tasks):
            continue  # planned already
        for task in request.tasks:
            if task.action == "restrict" and task.status == T.SUCCEEDED:
                lift = Task(connector=task.connector, action=LIFT, details={}, status=T.PENDING)
                lift.attempts = 0
                request.tasks.append(lift)
                planned.append(lift)
        audit.record(
            "restriction.lift_started",
            actor="system",
            request_id=request.id,
            data={"tasks": sum(1 for t in request.tasks if t.action == LIFT)},
        )
        lifted_if_done(request)
    db.session.commit()
    return planned


def lifted_if_done(request: DataRequest) -> None:
    """The restriction is lifted once every `lift_restriction` task has succeeded."""
    if request.restriction_lifted_at is not None or request.restriction_lift_notified_at is None:
        return
    lifts = [task for task in request.tasks if task.action == LIFT]
    if lifts and not all(task.status == T.SUCCEEDED for task in lifts):
        return
    if not lifts and any(t.action == "restrict" and t.status == T.SUCCEEDED for t in request.tasks):
        return  # not planned yet
    request.restriction_lifted_at = utcnow()
    audit.record("restriction.lifted", actor="system", request_id=request.id)
