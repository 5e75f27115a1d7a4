"""The OpenAPI description of a case's assignment (`dsr.web.assign_api`)."""

from apispec import APISpec

from dsr.web.assign_api import Assignment
from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_staff import REF, staff_operation


def assign_operation() -> dict:
    operation = staff_operation(
        "assignRequest",
        "Assign a case to a handler or admin, or to nobody (staff: handler and above)",
        "`email`: an active handler's or administrator's address, or null for nobody. The "
        "request's `assignee` says who has it; each change is an audit event.",
        REF,
        {
            "200": {
                "description": "Assigned; the request.",
                "content": json_content("RequestDetail"),
            },
            "404": error_response("No request with this reference (`not_found`)."),
            "422": error_response(
                "Not the address of an active handler or administrator, or a wrong body "
                "(`validation_error`)."
            ),
        },
    )
    operation["requestBody"] = {"required": True, "content": json_content("Assignment")}
    return operation


def add(spec: APISpec) -> None:
    spec.components.schema("Assignment", schema=Assignment)
    spec.path(path="/requests/{ref}/assign", operations={"post": assign_operation()})
