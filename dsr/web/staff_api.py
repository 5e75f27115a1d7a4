"""The staff API under /api/v1: the queue, a case, and a handler's actions, for bearer tokens.

`Authorization: Bearer <token>` (made by `flask dsr token create`) is the only
credential; the session cookie is not looked at, so the blueprint is exempt
from CSRF. Errors have the API's one shape (`dsr.web.api.ApiError`). The
public `POST /api/v1/requests` lives in `dsr.web.api`; the `GET` on the same
path is here.
"""

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from dsr import audit, caseload, processing
from dsr.extensions import csrf, db
from dsr.identity import claims, withheld
from dsr.models import AuditEvent, DataRequest, StaffRole, Task
from dsr.operations import InvalidTransition
from dsr.web.api import ApiError, handle_api_error, iso_utc
from dsr.web.auth import token_required

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

VIEWER, HANDLER = StaffRole.VIEWER, StaffRole.HANDLER
#: largest `per_page` a client may ask for
MAX_PER_PAGE = 100


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    """The API's error answer; a 401 also says how to authenticate (RFC 6750)."""
    response, status = handle_api_error(exc)
    if status == 401:
        challenge = 'Bearer realm="dsr"'
        if exc.code == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response, status


def iso_or_none(moment) -> str | None:
    return iso_utc(moment) if moment is not None else None


def summary(req: DataRequest, today) -> dict:
    """A request as the list shows it; days counted from `today`, local time."""
    left = caseload.days_left(req, today)
    return {
        "ref": req.ref,
        "type": req.type,
        "status": req.status,
        "received_at": iso_utc(req.received_at),
        "due_at": iso_utc(req.effective_due_at),
        "days_left": left,
        "overdue": left is not None and left < 0,
        "assignee": assignee_email(req),
    }


def assignee_email(req: DataRequest) -> str | None:
    return req.assignee.email if req.assignee else None


def task_json(task: Task) -> dict:
    return {
        "id": task.id,
        "connector": task.connector,
        "action": task.action,
        "status": task.status,
        "attempts": task.attempts,
        "last_error": task.last_error,
        "outcome": task.outcome,
        "record_counts": task.record_counts or {},
        "created_at": iso_utc(task.created_at),
        "started_at": iso_or_none(task.started_at),
        "finished_at": iso_or_none(task.finished_at),
    }


def identifier_json(ident: claims.Identifier) -> dict:
    """An identifier besides the email and its proof (`claimed` until proven)."""
    claim = ident.claim
    return {
        "kind": ident.kind,
        "value": ident.value,
        "status": ident.status,
        "method": claim.method if claim else None,
        "decided_by": claim.decided_by if claim else None,
        "decided_at": iso_or_none(claim.decided_at) if claim else None,
        "note": claim.note if claim else None,
    }


def withheld_json(answer) -> dict | None:
    """What a task's answer had withheld for carrying another email, and what became of it."""
    if answer is None:
        return None
    return {
        "status": answer.status,
        "record_counts": answer.record_counts,
        "other_email": answer.mismatched,
        "decided_by": answer.decided_by,
    }


def event_json(event: AuditEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "actor": event.actor,
        "created_at": iso_utc(event.created_at),
        "data": event.data or {},
    }


def detail(req: DataRequest) -> dict:
    """A request with its tasks, its identifiers' proofs and its audit events."""
    held = withheld.for_request(req)
    return {
        "ref": req.ref,
        "type": req.type,
        "status": req.status,
        "email": req.email,
        "name": req.name,
        "language": req.language,
        "identifiers": req.identifiers or {},
        "details": req.details or {},
        "decisions": req.decisions or {},
        "restricted_at": iso_or_none(req.restricted_at),
        "restriction_lift_notified_at": iso_or_none(req.restriction_lift_notified_at),
        "restriction_lifted_at": iso_or_none(req.restriction_lifted_at),
        "received_at": iso_utc(req.received_at),
        "verified_at": iso_or_none(req.verified_at),
        "due_at": iso_utc(req.effective_due_at),
        "assignee": assignee_email(req),
        "identity": [identifier_json(ident) for ident in claims.identifiers(req)],
        "tasks": [
            {**task_json(task), "withheld": withheld_json(held.get(task.id))} for task in req.tasks
        ],
        "events": [event_json(event) for event in audit.events_for(req.id)],
    }


def request_or_404(ref: str) -> DataRequest:
    found = caseload.by_ref(ref)
    if found is None:
        raise ApiError(404, "not_found", _("There is no request with this reference."))
    return found


@bp.get("/requests")
@token_required(VIEWER)
def list_requests():
    """The queue: search `q`; filters `status`, `type`, `overdue`, `restricted`, `due`,
    `assignee` (`mine`: the token's account); `page`, `per_page` (up to 100)."""
    try:
        filters = caseload.parse_filters(request.args, max_per_page=MAX_PER_PAGE)
    except caseload.FilterError as exc:
        raise ApiError(
            422, "validation_error", _("Some filters have values that mean nothing."), exc.fields
        ) from exc
    page = caseload.search(filters, me=g.api_user.id)
    today = caseload.local_today()
    items = [summary(req, today) for req in page.items]
    return jsonify(items=items, page=page.page, per_page=page.per_page, total=page.total)


@bp.get("/requests/<ref>")
@token_required(VIEWER)
def read_request(ref: str):
    return jsonify(detail(request_or_404(ref)))


@bp.post("/requests/<ref>/start")
@token_required(HANDLER)
def start(ref: str):
    """open -> processing: plan the tasks and queue them."""
    req = request_or_404(ref)
    try:
        processing.start(req, actor=g.api_user.actor)
    except InvalidTransition as exc:
        db.session.rollback()
        raise ApiError(
            409, "not_open", _("Processing starts only from an open request; this one is not open.")
        ) from exc
    except processing.DecisionNeeded as exc:
        db.session.rollback()
        raise ApiError(409, "decision_needed", str(exc)) from exc
    return jsonify(detail(req))


@bp.post("/tasks/<task_id>/retry")
@token_required(HANDLER)
def retry(task_id: str):
    """A failed task runs again."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise ApiError(404, "not_found", _("There is no task with this id."))
    try:
        processing.retry(task, actor=g.api_user.actor)
    except processing.NotAllowed as exc:
        db.session.rollback()
        raise ApiError(409, "not_allowed", str(exc)) from exc
    return jsonify(task_json(task))
