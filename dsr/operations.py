"""Every change of a request's state, in one place: change, audit, (caller) commit.

Controllers and jobs call these functions and commit afterwards; emails are
enqueued by the caller once the transaction is committed, so a job never sees
a request that is not yet in the database.
"""

import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dsr import audit, deadlines, keys, task_status
from dsr.extensions import db
from dsr.models import ClockPause, DataRequest
from dsr.models.types import utcnow
from dsr.references import next_reference
from dsr.status import RequestStatus, can_transition

logger = logging.getLogger(__name__)
S = RequestStatus


class InvalidTransition(Exception):
    """A status change the transition table does not allow."""


class LinkAlreadyUsed(Exception):
    """A verification link that was used already, or replaced by a newer one."""


def controller_settings() -> tuple[str, str]:
    """The controller's country (public holidays) and time zone (what a 'day' is)."""
    controller = current_app.config["INSTANCE"]["controller"]
    return controller.get("country", "FR"), controller.get("timezone", "Europe/Paris")


def compute_due_at(request: DataRequest, months: int = 1):
    """The end of the last day to answer, given the receipt and the clock's pauses."""
    country, tz = controller_settings()
    received = deadlines.local_date(request.received_at, tz)
    spans = [(p.started_at, p.ended_at) for p in request.pauses]
    paused = deadlines.paused_days(spans, utcnow(), tz)
    return deadlines.end_of_day_utc(deadlines.due_date(received, months, country, paused), tz)


def compute_extended_due_at(request: DataRequest):
    """The end of the extended deadline (Art. 12(3)): the months of the extension recorded
    in the request's decisions, counted from its first deadline (`due_at`)."""
    country, tz = controller_settings()
    months = (request.decisions or {}).get("extension", {}).get("months", 2)
    first = deadlines.local_date(request.due_at, tz)
    return deadlines.end_of_day_utc(deadlines.extended_due_date(first, months, country), tz)


def create_request(data: dict, *, actor: str = "subject", channel: str = "web") -> DataRequest:
    """Store a new, unverified request and its first audit event."""
    now = utcnow()
    request = DataRequest(
        type=data["type"],
        status=S.UNVERIFIED,
        email=data["email"].lower(),
        name=data["name"],
        identifiers=data["identifiers"],
        details=data["details"],
        language=data["language"],
        received_at=now,
        verify_nonce=secrets.token_hex(8),
    )
    request.due_at = compute_due_at(request)
    request.ref = next_reference(now.year)  # the first write: the lock is held from here
    request.data_key = keys.new_wrapped_key(request.ref)
    db.session.add(request)
    db.session.flush()
    audit.record(
        "request.created",
        actor=actor,
        request_id=request.id,
        data={
            "ref": request.ref,
            "type": request.type,
            "channel": channel,
            "due_at": request.due_at.isoformat(),
        },
    )
    return request


def transition_to(
    request: DataRequest, target: RequestStatus, *, actor: str, reason: str | None = None
) -> None:
    """Move a request to `target` if the table allows it; pauses and resumes the clock.

    Entering `withdrawn`, `rejected` or `expired` cancels the request's
    unfinished tasks in the same transaction; their jobs leave the queues
    once it commits.
    """
    current = request.status_enum
    if not can_transition(current, target):
        raise InvalidTransition(f"{request.ref}: {current} -> {target} is not allowed")
    now = utcnow()
    if current.pauses_clock:
        request.pauses[-1].ended_at = now
        request.due_at = compute_due_at(request)
        if request.extended_due_at:
            request.extended_due_at = compute_extended_due_at(request)
    if target.pauses_clock:
        request.pauses.append(ClockPause(started_at=now))
    if target.is_final:
        request.closed_at = now
    request.status = target
    data = {"from": str(current), "to": str(target)}
    if reason:
        data["reason"] = reason
    audit.record("status.changed", actor=actor, request_id=request.id, data=data)
    if target.cancels_tasks:
        task_status.cancel_unfinished(request, actor=actor, reason=f"the request is {target}")


def verify(request: DataRequest, nonce: str | None) -> None:
    """The subject confirmed their address with the current, unused link."""
    if request.status != S.UNVERIFIED or not nonce or request.verify_nonce != nonce:
        raise LinkAlreadyUsed(request.ref)
    request.verified_at = utcnow()
    request.verify_nonce = None
    transition_to(request, S.OPEN, actor="subject", reason="email address confirmed")


def renew_verification(email: str) -> list[DataRequest]:
    """Give every pending request of `email` a new link; older links stop working."""
    query = select(DataRequest).where(
        DataRequest.email == email.strip().lower(), DataRequest.status == S.UNVERIFIED
    )
    requests = list(db.session.scalars(query))
    for request in requests:
        request.verify_nonce = secrets.token_hex(8)
        audit.record("verification.resent", actor="subject", request_id=request.id)
    return requests


def followed_requests(email: str) -> list[DataRequest]:
    """The confirmed requests of `email` not closed yet: those a status link still serves."""
    followed = [s for s in RequestStatus if s is not S.UNVERIFIED and not s.is_final]
    query = select(DataRequest).where(
        DataRequest.email == email.strip().lower(), DataRequest.status.in_(followed)
    )
    return list(db.session.scalars(query.order_by(DataRequest.id)))


def withdraw(request: DataRequest, *, actor: str = "subject") -> None:
    """The subject no longer wants an answer."""
    transition_to(request, S.WITHDRAWN, actor=actor, reason="withdrawn by the requester")


def expire_unverified() -> int:
    """Mark requests never verified within the window `expired`; return how many."""
    days = current_app.config["VERIFICATION_WINDOW_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    query = select(DataRequest).where(
        DataRequest.status == S.UNVERIFIED, DataRequest.received_at < cutoff
    )
    expired = 0
    for request in db.session.scalars(query):
        request.verify_nonce = None
        transition_to(request, S.EXPIRED, actor="system", reason=f"not verified within {days} days")
        expired += 1
    return expired
