"""The staff API under /api/v1: the queue, a case, and a handler's actions, for bearer tokens.

`Authorization: Bearer <token>` (made by `flask dsr token create`) is the only
credential; the session cookie is not looked at, so the blueprint is exempt
from CSRF. Errors have the API's one shape (`dsr.web.api.ApiError`). The
public `POST /api/v1/requests` lives in `dsr.web.api`; the `GET` on the same
path is here.
"""

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

import workflows
from dsr import caseload, processing, status
from dsr.extensions import csrf, db
from dsr.models import DataRequest, StaffRole, Task
from dsr.operations import InvalidTransition
from dsr.web import schemas
from dsr.web.api import ApiError, handle_api_error
from dsr.web.apidoc import NOT_FOUND, ONE_LINE_QUERY, documented
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


def detail(req: DataRequest) -> dict:
    """A request with its tasks, its identifiers' proofs and its audit events."""
    return schemas.REQUEST_DETAIL.dump(req)


def request_or_404(ref: str) -> DataRequest:
    found = caseload.by_ref(ref)
    if found is None:
        raise ApiError(404, "not_found", _("There is no request with this reference."))
    return found


def query_parameter(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


#: the queue's filters (`caseload.parse_filters`)
FILTERS = [
    query_parameter(
        "status",
        "A status, or `all`; by default every status that is not final.",
        {"type": "string", "enum": ["all", *(str(s) for s in status.RequestStatus)]},
    ),
    query_parameter("type", "A request type.", {"type": "string", "enum": workflows.names()}),
    query_parameter(
        "overdue",
        "`true`: only overdue requests; `false`: none of them.",
        {"type": "string", "enum": ["true", "false"]},
    ),
    query_parameter(
        "restricted",
        "`true`: only requests whose restriction (Art. 18) is in force, closed ones "
        "included unless `status` says otherwise.",
        {"type": "string", "enum": ["true"]},
    ),
    query_parameter(
        "q",
        "Text searched in the reference, the email and the name, whatever the case.",
        {"type": "string", "maxLength": caseload.MAX_SEARCH, "pattern": ONE_LINE_QUERY},
    ),
    query_parameter(
        "assignee",
        "`mine`: assigned to the token's account; `none`: to nobody; or a staff member's email "
        "(an address no account has matches nothing).",
        {"type": "string", "maxLength": caseload.MAX_SEARCH, "pattern": ONE_LINE_QUERY},
    ),
    query_parameter(
        "due",
        "`week`: a running deadline within 7 days (today included).",
        {"type": "string", "enum": [caseload.DUE_WEEK]},
    ),
    query_parameter(
        "page",
        "From 1.",
        {"type": "integer", "minimum": 1, "maximum": caseload.MAX_PAGE, "default": 1},
    ),
    query_parameter(
        "per_page",
        "Up to 100.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 25},
    ),
]


@bp.get("/requests")
@documented(
    "listRequests",
    "The queue of requests (staff: viewer and above)",
    "Requests by deadline, earliest first; by default every request not closed.",
    parameters=FILTERS,
    responses={
        200: ("One page.", schemas.RequestList),
        422: "A filter has a value that means nothing, or is not one of these; `fields` names it.",
    },
)
@token_required(VIEWER)
def list_requests():
    """The queue: search `q`; filters `status`, `type`, `overdue`, `restricted`, `due`,
    `assignee` (`mine`: the token's account); `page`, `per_page` (up to 100)."""
    unknown = sorted(set(request.args) - {parameter["name"] for parameter in FILTERS})
    if unknown:
        message = _("Unknown filter.")
        raise ApiError(
            422,
            "validation_error",
            _("Some filters have values that mean nothing."),
            {name: [message] for name in unknown},
        )
    try:
        filters = caseload.parse_filters(request.args, max_per_page=MAX_PER_PAGE)
    except caseload.FilterError as exc:
        raise ApiError(
            422, "validation_error", _("Some filters have values that mean nothing."), exc.fields
        ) from exc
    return jsonify(schemas.REQUEST_LIST.dump(caseload.search(filters, me=g.api_user.id)))


@bp.get("/requests/<ref>")
@documented(
    "readRequest",
    "A request with its tasks and audit events (staff: viewer and above)",
    "What the case page shows, as JSON.",
    responses={200: ("The request.", schemas.RequestDetail), 404: NOT_FOUND},
)
@token_required(VIEWER)
def read_request(ref: str):
    return jsonify(detail(request_or_404(ref)))


@bp.post("/requests/<ref>/start")
@documented(
    "startProcessing",
    "Start processing an open request (staff: handler and above)",
    "open -> processing: one task per system and action the request's type asks for, "
    "queued at once.",
    responses={
        200: ("Started.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "The request is not `open` (`not_open`), or a handler must decide first "
        "(`decision_needed`).",
    },
)
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
@documented(
    "retryTask",
    "Run a failed task again (staff: handler and above)",
    "The task is queued again with a fresh count of attempts; a request in `review` "
    "goes back to `processing`.",
    responses={
        200: ("Queued again.", schemas.Task),
        404: "No task with this id (`not_found`).",
        409: "The task is not `failed`, or its request is closed.",
    },
)
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
    return jsonify(schemas.TASK.dump(task))
