"""The OpenAPI description of the decisions before processing, the restriction's lifting
and the suppression check (`dsr.web.decisions_api`), on the staff helpers."""

from apispec import APISpec

from dsr.web.decisions_api import (
    ChangeDecision,
    DeathNoticeDecision,
    LiftAnnouncement,
    ObjectionDecision,
    SuppressionQuery,
)
from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_staff import AUTH_ERRORS, REF, path_parameter, staff_operation

SUPPRESSION = {
    "type": "object",
    "required": ["suppressed", "records"],
    "properties": {
        "suppressed": {"type": "boolean"},
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "request_ref", "created_at"],
                "properties": {
                    "kind": {"type": "string", "enum": ["email", "phone", "customer_number"]},
                    "request_ref": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}

REFUSED = error_response(
    "The decision cannot be taken now: not open, or nothing to decide (`not_allowed`)."
)
INVALID = error_response("The body is missing a field or has a wrong one (`validation_error`).")


def with_body(operation: dict, schema: str) -> dict:
    operation["requestBody"] = {"required": True, "content": json_content(schema)}
    return operation


def decision_responses() -> dict:
    return {
        "200": {"description": "Recorded; the request.", "content": json_content("RequestDetail")},
        "404": error_response("No request with this reference (`not_found`)."),
        "409": REFUSED,
        "422": INVALID,
    }


def change_operation() -> dict:
    operation = staff_operation(
        "decideChange",
        "Accept or refuse a requested correction (staff: handler and above)",
        "Rectification (Art. 16), while the request is `open`: accept change `number` (from "
        "1) naming the register fields it corrects, or refuse it with the reason the person "
        "reads. Processing starts once every change is decided.",
        REF,
        decision_responses(),
    )
    operation["parameters"].append(
        path_parameter("number", "The change's number, from 1.", type="integer", minimum=1)
    )
    return with_body(operation, "ChangeDecision")


def objection_operation() -> dict:
    return with_body(
        staff_operation(
            "decideObjection",
            "Decide an objection on grounds of a particular situation (staff: handler and above)",
            "Art. 21(1), while the request is `open`: upheld for the legitimate-interest "
            "activities named, or not because compelling legitimate grounds override; the "
            "reasoning goes in the answer.",
            REF,
            decision_responses(),
        ),
        "ObjectionDecision",
    )


def death_notice_operation() -> dict:
    return with_body(
        staff_operation(
            "decideDeathNotice",
            "Carry out a death notice whose documents were checked (staff: handler and above)",
            "Loi 78-17 Art. 85, while the request is `open` and has documents: the deceased's "
            "directives in force are carried out (a hand-over only for the designated person's "
            "own request); without directives, the `heirs_rights` named (`close_accounts`, "
            "`oppose_processing`), for an heir.",
            REF,
            decision_responses(),
        ),
        "DeathNoticeDecision",
    )


def lift_operation() -> dict:
    return with_body(
        staff_operation(
            "announceLift",
            "Announce the lifting of a restriction (staff: handler and above)",
            "Art. 18(3): the person is mailed the reasons; `RESTRICTION_LIFT_NOTICE_DAYS` later "
            "the systems that restricted are asked to `lift_restriction`.",
            REF,
            decision_responses(),
        ),
        "LiftAnnouncement",
    )


def suppression_operation() -> dict:
    operation = {
        "operationId": "checkSuppression",
        "summary": "Whether identifiers belong to a person erased here (staff: handler and above)",
        "description": "For a system's owner about to re-import a person: the suppression "
        "records (keyed hashes) matching the email, phones or customer numbers given.",
        "tags": ["staff"],
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": {"description": "The answer.", "content": json_content("Suppression")},
            "422": INVALID,
            **AUTH_ERRORS,
        },
    }
    return with_body(operation, "SuppressionQuery")


def add(spec: APISpec) -> None:
    spec.components.schema("ChangeDecision", schema=ChangeDecision)
    spec.components.schema("ObjectionDecision", schema=ObjectionDecision)
    spec.components.schema("DeathNoticeDecision", schema=DeathNoticeDecision)
    spec.components.schema("LiftAnnouncement", schema=LiftAnnouncement)
    spec.components.schema("SuppressionQuery", schema=SuppressionQuery)
    spec.components.schema("Suppression", SUPPRESSION)
    spec.path(
        path="/requests/{ref}/changes/{number}/decision",
        operations={"post": change_operation()},
    )
    spec.path(path="/requests/{ref}/objection/decision", operations={"post": objection_operation()})
    spec.path(
        path="/requests/{ref}/death-notice/decision",
        operations={"post": death_notice_operation()},
    )
    spec.path(path="/requests/{ref}/restriction/lift", operations={"post": lift_operation()})
    spec.path(path="/suppressions/check", operations={"post": suppression_operation()})
