"""The OpenAPI description of the questions to the person (`dsr.web.ask_api`), on the staff
helpers."""

from apispec import APISpec

from dsr.web.ask_api import AskBody
from dsr.web.openapi import error_response, json_content
from dsr.web.openapi_staff import DATE_TIME, NULLABLE_DATE_TIME, REF, staff_operation

FILE = {
    "type": "object",
    "required": ["id", "filename", "media_type", "size", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "filename": {"type": "string"},
        "media_type": {"type": "string", "enum": ["application/pdf", "image/png", "image/jpeg"]},
        "size": {"type": "integer"},
        "created_at": DATE_TIME,
    },
}

QUESTION = {
    "type": "object",
    "required": ["id", "message", "asked_by", "asked_at", "from_status", "expires_at", "files"],
    "properties": {
        "id": {"type": "integer"},
        "message": {"type": "string"},
        "asked_by": {"type": "string"},
        "asked_at": DATE_TIME,
        "from_status": {"type": "string", "enum": ["open", "processing", "review"]},
        "reminded_at": NULLABLE_DATE_TIME,
        "expires_at": DATE_TIME,
        "answered_at": NULLABLE_DATE_TIME,
        "answer": {"type": ["string", "null"]},
        "files": {"type": "array", "items": {"$ref": "#/components/schemas/QuestionFile"}},
        "expired_at": NULLABLE_DATE_TIME,
        "paused_days": {"type": ["integer", "null"]},
    },
}

QUESTIONS = {
    "type": "object",
    "required": ["ref", "questions"],
    "properties": {
        "ref": {"type": "string"},
        "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}},
    },
}


def ask_operation() -> dict:
    operation = staff_operation(
        "askSubject",
        "Ask the person for information or a document (staff: handler and above)",
        "Art. 12(6): from `open`, `processing` or `review`, the request becomes "
        "`awaiting_subject` and its clock stops; the person is mailed the message and their "
        "status link, where they answer (a message and PDF, PNG or JPEG files). The answer "
        "brings the request back to the status it came from and moves `due_at` by the days "
        "paused. `ASK_REMINDER_DAYS` without an answer, a reminder; `ASK_EXPIRY_DAYS`, the "
        "request is closed `expired`.",
        REF,
        {
            "200": {"description": "Asked; the request.", "content": json_content("RequestDetail")},
            "404": error_response("No request with this reference (`not_found`)."),
            "409": error_response(
                "Not open, processing or in review (`not_askable`), or the answer is being "
                "released (`release_in_progress`)."
            ),
            "422": error_response("No message, or one too long (`validation_error`)."),
        },
    )
    operation["requestBody"] = {"required": True, "content": json_content("AskBody")}
    return operation


def questions_operation() -> dict:
    return staff_operation(
        "listQuestions",
        "The questions asked to the person, with their answers (staff: viewer and above)",
        "Oldest first; the files are opened on the case page (handlers).",
        REF,
        {
            "200": {"description": "The questions.", "content": json_content("Questions")},
            "404": error_response("No request with this reference (`not_found`)."),
        },
    )


def add(spec: APISpec) -> None:
    spec.components.schema("AskBody", schema=AskBody)
    spec.components.schema("QuestionFile", FILE)
    spec.components.schema("Question", QUESTION)
    spec.components.schema("Questions", QUESTIONS)
    spec.path(path="/requests/{ref}/ask", operations={"post": ask_operation()})
    spec.path(path="/requests/{ref}/questions", operations={"get": questions_operation()})
