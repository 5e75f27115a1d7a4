"""The OpenAPI description of the staff API (bearer tokens) and of the connector callback.

Kept apart from `dsr.web.openapi`, which describes intake and builds the
document: this module only adds schemas and paths to its `APISpec`.
"""

from apispec import APISpec

from dsr.models import TaskStatus
from dsr.status import RequestStatus
from dsr.web.openapi import REF_PATTERN, error_response, json_content

DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
STATUS = {"type": "string", "enum": [str(s) for s in RequestStatus]}

#: what the list and the detail say alike about a request
REQUEST = {
    "ref": {"type": "string", "pattern": REF_PATTERN, "examples": ["DSR-2025-000042"]},
    "type": {"type": "string"},
    "status": STATUS,
    "received_at": DATE_TIME,
    "due_at": {**DATE_TIME, "description": "The deadline in force (extended, if it was)."},
    "assignee": {
        "type": ["string", "null"],
        "format": "email",
        "description": "The email of the handler or admin the case is assigned to; null: nobody.",
    },
}

REQUEST_SUMMARY = {
    "type": "object",
    "required": [
        "ref",
        "type",
        "status",
        "received_at",
        "due_at",
        "assignee",
        "days_left",
        "overdue",
    ],
    "properties": {
        **REQUEST,
        "days_left": {
            "type": ["integer", "null"],
            "description": "Days until the deadline in the controller's time zone; 0 on the "
            "last day, negative once overdue; null when the clock is paused or the case closed.",
        },
        "overdue": {"type": "boolean"},
    },
}

REQUEST_LIST = {
    "type": "object",
    "required": ["items", "page", "per_page", "total"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/RequestSummary"}},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        "total": {"type": "integer", "minimum": 0},
    },
}

WITHHELD = {
    "type": ["object", "null"],
    "description": "The task's answer had records carrying another email address than the "
    "verified one: withheld whole until a handler releases or discards it.",
    "properties": {
        "status": {"type": "string", "enum": ["held", "released", "discarded"]},
        "record_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "other_email": {"type": "integer", "description": "Records carrying another email."},
        "decided_by": {"type": ["string", "null"]},
    },
}

TASK = {
    "type": "object",
    "required": ["id", "connector", "action", "status", "attempts", "record_counts"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "connector": {"type": "string", "description": "The connector instance's name."},
        "action": {"type": "string", "examples": ["access", "erase"]},
        "status": {"type": "string", "enum": [str(s) for s in TaskStatus]},
        "attempts": {"type": "integer", "minimum": 0},
        "last_error": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]},
        "record_counts": {
            "type": "object",
            "description": "Records returned, per table.",
            "additionalProperties": {"type": "integer"},
        },
        "created_at": DATE_TIME,
        "started_at": NULLABLE_DATE_TIME,
        "finished_at": NULLABLE_DATE_TIME,
        "withheld": WITHHELD,
    },
}

IDENTIFIER = {
    "type": "object",
    "description": "An identifier besides the verified email. Systems match on it only once "
    "it is `proven` (a code sent to the phone, or a handler's decision).",
    "required": ["kind", "value", "status", "method", "decided_by", "decided_at", "note"],
    "properties": {
        "kind": {"type": "string", "enum": ["phone", "customer_number"]},
        "value": {"type": "string", "description": "As the subject typed it."},
        "status": {"type": "string", "enum": ["claimed", "proven"]},
        "method": {"type": ["string", "null"], "enum": ["sms_code", "handler", None]},
        "decided_by": {"type": ["string", "null"]},
        "decided_at": NULLABLE_DATE_TIME,
        "note": {"type": ["string", "null"], "description": "The handler's reason."},
    },
}

PROOF = {
    "type": "object",
    "required": ["value", "note"],
    "properties": {
        "value": {"type": "string", "description": "One of the request's identifiers of `kind`."},
        "note": {"type": "string", "maxLength": 2000, "description": "What proves it."},
    },
}

EVENT = {
    "type": "object",
    "description": "An event of the tamper-evident audit log.",
    "required": ["id", "kind", "actor", "created_at", "data"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "examples": ["request.created", "status.changed"]},
        "actor": {"type": "string", "examples": ["subject", "system", "staff:ana@example.org"]},
        "created_at": DATE_TIME,
        "data": {"type": "object"},
    },
}

REQUEST_DETAIL = {
    "type": "object",
    "properties": {
        **REQUEST,
        "email": {"type": "string", "format": "email"},
        "name": {"type": "string"},
        "language": {"type": "string", "enum": ["fr", "en"]},
        "identifiers": {"type": "object"},
        "details": {"type": "object", "description": "Depends on `type` (see NewRequest)."},
        "decisions": {
            "type": "object",
            "description": "A handler's decisions: `changes` (rectification: `index`, "
            "`accepted`, `fields` or `reason`) and `objection` (`upheld`, `activities`, "
            "`reasoning`).",
        },
        "restricted_at": NULLABLE_DATE_TIME,
        "restriction_lift_notified_at": NULLABLE_DATE_TIME,
        "restriction_lifted_at": NULLABLE_DATE_TIME,
        "verified_at": NULLABLE_DATE_TIME,
        "identity": {"type": "array", "items": {"$ref": "#/components/schemas/Identifier"}},
        "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
    },
}
REQUEST_DETAIL["required"] = list(REQUEST_DETAIL["properties"])

ANSWER = {
    "type": "object",
    "description": "A system's answer to a task.",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["succeeded", "failed"]},
        "records": {
            "type": "object",
            "description": "Records found, per table.",
            "additionalProperties": {"type": "array", "items": {"type": "object"}},
        },
        "error": {"type": "string", "description": "Why it failed."},
        "outcome": {"type": "string", "description": "What was done, in a few words."},
        "task_id": {
            "type": "string",
            "format": "uuid",
            "description": "The task answered; when given, it must be the one in the URL.",
        },
    },
}

CALLBACK_ACK = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {
            "type": "string",
            "enum": ["accepted", "already_finished"],
            "description": "`already_finished`: a repeated callback (the same signature "
            "again on its task, or a task finished already); nothing changed.",
        },
        "task": {"type": "string", "format": "uuid"},
        "task_status": {"type": "string", "enum": [str(s) for s in TaskStatus]},
    },
}


def path_parameter(name: str, description: str, **schema) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def query_parameter(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


REF = path_parameter("ref", "The request's reference.", pattern=REF_PATTERN)
TASK_ID = path_parameter("task_id", "The task's id.", format="uuid")

AUTH_ERRORS = {
    "401": {
        **error_response("No bearer token, or one unknown or of an inactive account."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "403": error_response("The token's account has a role too low for this."),
}


def staff_operation(
    operation_id: str, summary: str, description: str, parameter: dict, responses: dict
) -> dict:
    """An operation of the staff API: bearer token, 401/403 answers."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["staff"],
        "security": [{"bearerAuth": []}],
        "parameters": [parameter],
        "responses": {**responses, **AUTH_ERRORS},
    }


def list_operation() -> dict:
    """`GET /requests`, beside the public `POST` on the same path."""
    operation = staff_operation(
        "listRequests",
        "The queue of requests (staff: viewer and above)",
        "Requests by deadline, earliest first; by default every request not closed.",
        query_parameter(
            "status",
            "A status, or `all`; by default every status that is not final.",
            {"type": "string", "enum": ["all", *STATUS["enum"]]},
        ),
        {
            "200": {"description": "One page.", "content": json_content("RequestList")},
            "422": error_response("A filter has a value that means nothing; `fields` names it."),
        },
    )
    operation["parameters"] += [
        query_parameter("type", "A request type.", {"type": "string"}),
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
            {"type": "string", "maxLength": 254},
        ),
        query_parameter(
            "assignee",
            "`mine`: assigned to the token's account; `none`: to nobody; or a staff email.",
            {"type": "string"},
        ),
        query_parameter(
            "due",
            "`week`: a running deadline within 7 days (today included).",
            {"type": "string", "enum": ["week"]},
        ),
        query_parameter("page", "From 1.", {"type": "integer", "minimum": 1, "default": 1}),
        query_parameter(
            "per_page",
            "Up to 100.",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        ),
    ]
    return operation


def read_operation() -> dict:
    return staff_operation(
        "readRequest",
        "A request with its tasks and audit events (staff: viewer and above)",
        "What the case page shows, as JSON.",
        REF,
        {
            "200": {"description": "The request.", "content": json_content("RequestDetail")},
            "404": error_response("No request with this reference (`not_found`)."),
        },
    )


def start_operation() -> dict:
    return staff_operation(
        "startProcessing",
        "Start processing an open request (staff: handler and above)",
        "open -> processing: one task per system and action the request's type asks for, "
        "queued at once.",
        REF,
        {
            "200": {"description": "Started.", "content": json_content("RequestDetail")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response("The request is not `open` (`not_open`)."),
        },
    )


def retry_operation() -> dict:
    return staff_operation(
        "retryTask",
        "Run a failed task again (staff: handler and above)",
        "The task is queued again with a fresh count of attempts; a request in `review` "
        "goes back to `processing`.",
        TASK_ID,
        {
            "200": {"description": "Queued again.", "content": json_content("Task")},
            "404": error_response("No task with this id (`not_found`)."),
            "409": error_response("The task is not `failed`, or its request is closed."),
        },
    )


def prove_operation() -> dict:
    operation = staff_operation(
        "proveIdentifier",
        "Hold a claimed identifier proven (staff: handler and above)",
        "After looking at what the subject sent: systems may now find the person by this "
        "identifier. A request already in `review` can then run its tasks again from the "
        "case page. An audit event records it, with the value masked.",
        REF,
        {
            "200": {"description": "Proven.", "content": json_content("Identifier")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response("The identifier is proven already (`already_proven`)."),
            "422": error_response(
                "`value` is not one of the request's identifiers of this kind (`not_claimed`), "
                "or `value` or `note` is missing (`validation_error`)."
            ),
        },
    )
    operation["parameters"].append(
        path_parameter("kind", "The identifier's kind.", enum=["phone", "customer_number"])
    )
    operation["requestBody"] = {"required": True, "content": json_content("Proof")}
    return operation


def rerun_operation() -> dict:
    return staff_operation(
        "rerunWithProvenIdentifiers",
        "Run again the tasks that identifiers proven since could let find more "
        "(staff: handler and above)",
        "For a request in `review`: every finished task of a system that matches on an "
        "identifier proven after it ran is queued again; the request goes back to "
        "`processing`.",
        REF,
        {
            "200": {"description": "Queued again.", "content": json_content("RequestDetail")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response(
                "No task would find more, or the request is not in review (`nothing_to_rerun`)."
            ),
        },
    )


def withheld_operation() -> dict:
    operation = staff_operation(
        "decideWithheldAnswer",
        "Release or discard a task's withheld answer (staff: handler and above)",
        "An answer whose records carry another email address than the confirmed one is "
        "withheld. `release`: they belong to this person and join the results (only while "
        "the request is `processing` or `review`); `discard`: they are deleted.",
        TASK_ID,
        {
            "200": {"description": "Decided.", "content": json_content("Task")},
            "404": error_response("No task with this id (`not_found`)."),
            "409": error_response(
                "Nothing of this task is withheld and waiting, or the "
                "request is closed (`not_allowed`)."
            ),
        },
    )
    operation["parameters"].append(
        path_parameter("decision", "What becomes of the answer.", enum=["release", "discard"])
    )
    return operation


def callback_operation() -> dict:
    return {
        "operationId": "receiveCallback",
        "summary": "A connected system's answer to a task (signed)",
        "description": "Sent by a system of kind `webhook` to the notice's `callback_url`, "
        "signed with the connector's secret. A signature older than five minutes is refused "
        "before the task is looked up or the body read; a signature is good for one task "
        "(the same one again on its task is acknowledged, on another refused); refused "
        "signatures are rate-limited per client address. A repeated callback for a finished "
        "task is acknowledged without effect.",
        "tags": ["connectors"],
        "parameters": [
            path_parameter("task_id", "The task's id, from the notice.", format="uuid"),
            {
                "name": "X-DSR-Signature",
                "in": "header",
                "required": True,
                "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`',
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {"required": True, "content": json_content("Answer")},
        "responses": {
            "200": {
                "description": "Taken, or taken already.",
                "content": json_content("CallbackAck"),
            },
            "401": error_response(
                "The signature is missing, wrong, too old, or already used for another task."
            ),
            "404": error_response("No task with this id (`unknown_task`)."),
            "409": error_response(
                "The task is not waiting for an answer, was cancelled with its request, "
                "or its system does not call back."
            ),
            "413": error_response("The body is larger than the server accepts."),
            "422": error_response(
                "The body is not a valid answer (`malformed_answer`), or its `task_id` names "
                "another task (`task_mismatch`)."
            ),
            "429": error_response("Too many refused signatures from this address."),
        },
    }


SCHEMAS = {
    "RequestSummary": REQUEST_SUMMARY,
    "RequestList": REQUEST_LIST,
    "Task": TASK,
    "Event": EVENT,
    "Identifier": IDENTIFIER,
    "Proof": PROOF,
    "RequestDetail": REQUEST_DETAIL,
    "Answer": ANSWER,
    "CallbackAck": CALLBACK_ACK,
}


def add(spec: APISpec) -> None:
    """The staff schemas and paths (but `GET /requests`: see `list_operation`), and the callback."""
    spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "From `flask dsr token create`."},
    )
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    spec.path(path="/requests/{ref}", operations={"get": read_operation()})
    spec.path(path="/requests/{ref}/start", operations={"post": start_operation()})
    spec.path(
        path="/requests/{ref}/identifiers/{kind}/prove", operations={"post": prove_operation()}
    )
    spec.path(path="/requests/{ref}/rerun", operations={"post": rerun_operation()})
    spec.path(path="/tasks/{task_id}/retry", operations={"post": retry_operation()})
    spec.path(
        path="/tasks/{task_id}/withheld/{decision}", operations={"post": withheld_operation()}
    )
    spec.path(path="/callbacks/{task_id}", operations={"post": callback_operation()})
