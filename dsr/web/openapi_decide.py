"""The OpenAPI description of extending, refusing, closing, notes and merging
(`dsr.web.decide_api`), on the staff helpers."""

from apispec import APISpec

from dsr.web.decide_api import Closure, Extension, Merge, Note, Refusal
from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_decisions import INVALID, with_body
from dsr.web.openapi_staff import DATE_TIME, REF, STATUS, staff_operation

CASE_NOTE = {
    "type": "object",
    "required": ["id", "author", "text", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "author": {"type": "string", "description": "The staff member's email address."},
        "text": {"type": "string"},
        "created_at": DATE_TIME,
    },
}
DUPLICATE = {
    "type": "object",
    "description": "Another request of the same confirmed email for the same right, open "
    "at the same time, or merged with this one.",
    "required": ["ref", "status", "received_at"],
    "properties": {"ref": {"type": "string"}, "status": STATUS, "received_at": DATE_TIME},
}

#: (path, operationId, summary, description, body schema, 409 codes)
OPERATIONS = [
    (
        "extend",
        "extendDeadline",
        "Extend the deadline by one or two further months (Art. 12(3))",
        "Once, before the first deadline, with reasons the person reads by email; "
        "`due_at` becomes the extended date (the month rule from the first deadline).",
        "Extension",
        "`wrong_status`, `already_extended`, `deadline_passed`, `release_in_progress`",
    ),
    (
        "reject",
        "rejectRequest",
        "Refuse the request (Art. 12(4), 12(5))",
        "`rejected`; unfinished tasks are cancelled; the person is emailed the reasons, the "
        "right to complain to the supervisory authority and to seek a judicial remedy. "
        "`exemption` names one of the exemptions the case page lists, for that ground only.",
        "Refusal",
        "`wrong_status`, `release_in_progress`",
    ),
    (
        "close",
        "closeRequest",
        "Complete the request without a pack: answered by another channel",
        "`completed`; unfinished tasks are cancelled; the reason is kept and emailed.",
        "Closure",
        "`wrong_status`, `release_in_progress`",
    ),
    (
        "merge",
        "mergeRequest",
        "Merge the request into an open duplicate",
        "The request is `completed`, pointing at `into` (`merged_into`); the person is told.",
        "Merge",
        "`wrong_status`, `not_a_duplicate`, `release_in_progress`",
    ),
]


def decision_operation(operation_id, summary, description, body, conflicts) -> dict:
    responses = {
        "200": {"description": "Decided; the request.", "content": json_content("RequestDetail")},
        "404": error_response("No request with this reference (`not_found`)."),
        "409": error_response(f"Not now: {conflicts}."),
        "422": INVALID,
    }
    operation = staff_operation(
        operation_id, f"{summary} (staff: handler and above)", description, REF, responses
    )
    return with_body(operation, body)


def note_operation() -> dict:
    responses = {
        "201": {"description": "The note.", "content": json_content("CaseNote")},
        "404": error_response("No request with this reference (`not_found`)."),
        "409": error_response("The request was anonymised (`not_allowed`)."),
        "422": INVALID,
    }
    operation = staff_operation(
        "addNote",
        "Add a note for staff (staff: handler and above)",
        "Never shown to the person; listed in `notes` of the request.",
        REF,
        responses,
    )
    return with_body(operation, "Note")


def add(spec: APISpec) -> None:
    for name, schema in (
        ("Extension", Extension),
        ("Refusal", Refusal),
        ("Closure", Closure),
        ("Note", Note),
        ("Merge", Merge),
    ):
        spec.components.schema(name, schema=schema)
    spec.components.schema("CaseNote", CASE_NOTE)
    spec.components.schema("Duplicate", DUPLICATE)
    for path, *operation in OPERATIONS:
        operations = {"post": decision_operation(*operation)}
        spec.path(path=f"/requests/{{ref}}/{path}", operations=operations)
    spec.path(path="/requests/{ref}/notes", operations={"post": note_operation()})
