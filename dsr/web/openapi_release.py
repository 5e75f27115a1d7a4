"""The OpenAPI description of the review and release: `POST /requests/{ref}/release` and
`GET /requests/{ref}/export` (`dsr.web.release_api`), the left-out entries
(`dsr.web.left_out_api`), on the staff helpers."""

from apispec import APISpec

from dsr.web.left_out_api import LeftOutSchema
from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_staff import NULLABLE_DATE_TIME, REF, path_parameter, staff_operation

RELEASE = {
    "type": "object",
    "required": ["ref", "status", "release_requested_at", "released_at", "release_error"],
    "properties": {
        "ref": {"type": "string"},
        "status": {"type": "string"},
        "release_requested_at": NULLABLE_DATE_TIME,
        "released_at": NULLABLE_DATE_TIME,
        "release_error": {
            "type": ["string", "null"],
            "description": "Why the last build failed; the request stays in `review`.",
        },
    },
}


def release_operation() -> dict:
    return staff_operation(
        "releaseAnswer",
        "Release the answer (staff: handler and above)",
        "Queues the build of the answer pack (for access: the letter and the data, less what "
        "was left out). Once built, the person is mailed a download link in their language "
        "and the request becomes `completed`; a build that fails leaves it in `review` with "
        "`release_error`, and it can be released again. Pressing twice builds one pack.",
        REF,
        {
            "202": {"description": "Release queued.", "content": json_content("Release")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response(
                "Not in review (`not_in_review`), a withheld answer awaits a decision "
                "(`withheld_pending`), or the type has no pack (`no_answer`)."
            ),
        },
    )


def export_operation() -> dict:
    return staff_operation(
        "exportAnswer",
        "The released answer pack (staff: handler and above)",
        "The ZIP the person downloads (the person's data: viewers may not). Each download is "
        "an audit event.",
        REF,
        {
            "200": {
                "description": "The pack.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": error_response("No such request, or no pack yet (`no_pack`)."),
        },
    )


TRANSMISSION = {
    "type": "object",
    "required": ["ref", "transmitted_at"],
    "properties": {"ref": {"type": "string"}, "transmitted_at": NULLABLE_DATE_TIME},
}


def transmit_operation() -> dict:
    return staff_operation(
        "transmitAnswer",
        "Send a portability pack to the organisation the person named (staff: handler and above)",
        "Art. 20(2): mails the receiving controller named in the request's `details` "
        "(`recipient_name`, `recipient_email`) a signed pull link to the released pack, "
        "working `TRANSFER_LINK_MAX_AGE`, and tells the person. Sending again voids the "
        "earlier link. Each sending and each download by the recipient is an audit event.",
        REF,
        {
            "202": {"description": "Link sent.", "content": json_content("Transmission")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response(
                "No receiving organisation named (`no_recipient`), or the answer is not "
                "released or no longer kept (`not_released`)."
            ),
        },
    )


LEFT_OUT_ENTRY = {
    "type": "object",
    "required": ["number", "connector", "table", "record", "reason", "by", "at"],
    "properties": {
        "number": {"type": "integer", "minimum": 1, "description": "To put it back (DELETE)."},
        "connector": {"type": "string"},
        "table": {"type": "string"},
        "record": {
            "type": ["integer", "null"],
            "minimum": 1,
            "description": "The record's number in its table (1 = the first returned); "
            "null when the whole table is left out. The manifest counts from 0.",
        },
        "reason": {"type": "string", "description": "Shown in the letter's annex."},
        "by": {"type": "string", "description": "Who left it out."},
        "at": {"type": "string", "format": "date-time"},
    },
}

LEFT_OUT = {
    "type": "object",
    "required": ["ref", "left_out"],
    "properties": {
        "ref": {"type": "string"},
        "left_out": {"type": "array", "items": {"$ref": "#/components/schemas/LeftOutEntry"}},
    },
}

LEFT_OUT_REFUSED = error_response(
    "Not in review (`not_in_review`), or the release is under way (`release_in_progress`)."
)


def left_out_operations() -> dict:
    """`GET` and `POST /requests/{ref}/left-out`."""
    listing = staff_operation(
        "listLeftOut",
        "What is left out of the answer (staff: handler and above)",
        "The tables and records a handler keeps out of the access answer (Art. 15(4)), "
        "numbered from 1.",
        REF,
        {
            "200": {"description": "The entries.", "content": json_content("LeftOut")},
            "404": error_response("No request with this reference (`not_found`)."),
        },
    )
    adding = staff_operation(
        "leaveOut",
        "Leave a table or one record out of the answer (staff: handler and above)",
        "Only in `review` and before the release. The record is absent from `data.json` "
        "and the CSVs, and listed with the reason in the manifest's `not_communicated` and "
        "the letter's annex. An audit event (`release.left_out`).",
        REF,
        {
            "201": {"description": "Left out; all entries.", "content": json_content("LeftOut")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": LEFT_OUT_REFUSED,
            "422": error_response(
                "A field is missing or wrong, the system, table or record does not exist, or "
                "it is left out already (`validation_error`; `fields` says what)."
            ),
        },
    )
    adding["requestBody"] = {"required": True, "content": json_content("NewLeftOut")}
    return {"get": listing, "post": adding}


def put_back_operation() -> dict:
    """`DELETE /requests/{ref}/left-out/{number}`."""
    operation = staff_operation(
        "putBackLeftOut",
        "Put back into the answer what an entry left out (staff: handler and above)",
        "Only in `review` and before the release; the entries after it move up by one. An "
        "audit event (`release.left_out_undone`).",
        REF,
        {
            "200": {"description": "Put back; the entries.", "content": json_content("LeftOut")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": LEFT_OUT_REFUSED,
            "422": error_response("No entry with this number (`validation_error`)."),
        },
    )
    operation["parameters"].append(
        path_parameter("number", "The entry's number (1 = the first).", type="integer")
    )
    return operation


def add(spec: APISpec) -> None:
    spec.components.schema("Release", RELEASE)
    spec.components.schema("LeftOutEntry", LEFT_OUT_ENTRY)
    spec.components.schema("LeftOut", LEFT_OUT)
    spec.components.schema("NewLeftOut", schema=LeftOutSchema)
    spec.path(path="/requests/{ref}/left-out", operations=left_out_operations())
    spec.path(path="/requests/{ref}/left-out/{number}", operations={"delete": put_back_operation()})
    spec.path(path="/requests/{ref}/release", operations={"post": release_operation()})
    spec.path(path="/requests/{ref}/export", operations={"get": export_operation()})
    spec.components.schema("Transmission", TRANSMISSION)
    spec.path(path="/requests/{ref}/transmit", operations={"post": transmit_operation()})
