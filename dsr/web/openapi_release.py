"""The OpenAPI description of the release: `POST /requests/{ref}/release` and
`GET /requests/{ref}/export` (`dsr.web.release_api`), on the staff helpers."""

from apispec import APISpec

from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_staff import NULLABLE_DATE_TIME, REF, staff_operation

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


def add(spec: APISpec) -> None:
    spec.components.schema("Release", RELEASE)
    spec.path(path="/requests/{ref}/release", operations={"post": release_operation()})
    spec.path(path="/requests/{ref}/export", operations={"get": export_operation()})
    spec.components.schema("Transmission", TRANSMISSION)
    spec.path(path="/requests/{ref}/transmit", operations={"post": transmit_operation()})
