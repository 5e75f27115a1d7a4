"""The JSON the API answers, as marshmallow output schemas: one shape, written once.

A view answers `jsonify(SCHEMA.dump(obj))` with one of the instances at the end
of this module, and `dsr.web.openapi` documents the same classes (by their
class name, as components), so the document cannot drift from the answers.
A field's `required=True` documents that the answer always carries it;
`metadata={"description": ...}` is the document's text. Values worked out
from the object rather than read from it are `Computed*` fields, which the
document types like the field they extend.
"""

from datetime import UTC

from marshmallow import Schema, fields, missing, validate

import workflows
from dsr import asking, audit, caseload, duplicates, notes
from dsr.identity import claims, withheld
from dsr.models import HeldStatus, TaskStatus
from dsr.status import RequestStatus

REF_PATTERN = r"^DSR-[0-9]{4}-[0-9]{6}$"


def iso_utc(moment) -> str:
    """An instant as ISO 8601 in UTC with the `Z` suffix, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class UtcDateTime(fields.DateTime):
    """An instant, written `2025-03-01T09:30:00Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else iso_utc(value)


class Object(fields.Dict):
    """A JSON object; an absent one (None) is written `{}`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value or {}, attr, obj, **kwargs)


class Computed:
    """A field whose value is `compute(obj)` rather than an attribute of the object."""

    def __init__(self, compute, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compute = compute

    def get_value(self, obj, attr, accessor=None, default=missing):
        return self.compute(obj)


class ComputedInteger(Computed, fields.Integer):
    pass


class ComputedBoolean(Computed, fields.Boolean):
    pass


class ComputedList(Computed, fields.List):
    pass


class ComputedNested(Computed, fields.Nested):
    pass


class ComputedString(Computed, fields.String):
    pass


class ComputedTime(Computed, UtcDateTime):
    pass


def text(description: str, **kwargs):
    return {"metadata": {"description": description}, **kwargs}


def one_of(values) -> validate.OneOf:
    """Documents the enum of an output field (nothing is validated on dump)."""
    return validate.OneOf([str(value) for value in values])


def nullable_time(description: str = "") -> UtcDateTime:
    metadata = {"description": description} if description else {}
    return UtcDateTime(required=True, allow_none=True, metadata=metadata)


# --- errors, creation, health --------------------------------------------------------


class ErrorBody(Schema):
    code = fields.String(
        required=True,
        metadata={
            "description": "Stable, machine-readable code.",
            "examples": ["validation_error", "invalid_json"],
        },
    )
    message = fields.String(
        required=True, metadata={"description": "What to do, in the client's language."}
    )
    field_messages = Object(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        data_key="fields",
        metadata={
            "description": "Messages per dotted field path (`details.changes.0.field`); "
            "`_schema` for the body as a whole. Empty when not about fields."
        },
    )


class Error(Schema):
    """Every error of the API has this shape."""

    error = fields.Nested(ErrorBody, required=True)


class RequestBase(Schema):
    """What every answer about a request says of it."""

    ref = fields.String(
        required=True,
        validate=validate.Regexp(REF_PATTERN),
        metadata={"examples": ["DSR-2025-000042"]},
    )
    type = fields.String(required=True, validate=one_of(workflows.names()))
    status = fields.String(required=True, validate=one_of(RequestStatus))
    received_at = UtcDateTime(required=True)
    due_at = UtcDateTime(
        required=True,
        attribute="effective_due_at",
        metadata={"description": "End of the last day to answer (UTC), extended if it was."},
    )


class Created(RequestBase):
    """A request just taken: it waits for the subject to confirm by the emailed link."""

    status = fields.String(required=True, validate=one_of([RequestStatus.UNVERIFIED]))


class Health(Schema):
    status = fields.String(required=True, validate=one_of(["ok", "degraded"]))
    database = fields.String(required=True, validate=one_of(["ok", "down"]))
    redis = fields.String(required=True, validate=one_of(["ok", "down"]))


# --- the queue and a case --------------------------------------------------------------


def assignee_email(req) -> str | None:
    return req.assignee.email if req.assignee else None


def assignee_field() -> "ComputedString":
    return ComputedString(
        assignee_email,
        required=True,
        allow_none=True,
        metadata={
            "format": "email",
            "description": "The handler or admin the case is assigned to; null: nobody.",
        },
    )


def is_overdue(req) -> bool:
    left = caseload.days_left(req)
    return left is not None and left < 0


class RequestSummary(RequestBase):
    """A request as the queue lists it."""

    days_left = ComputedInteger(
        caseload.days_left,
        required=True,
        allow_none=True,
        metadata={
            "description": "Days until the deadline in the controller's time zone; 0 on the "
            "last day, negative once overdue; null when the clock is paused or the case closed."
        },
    )
    overdue = ComputedBoolean(is_overdue, required=True)
    assignee = assignee_field()


class RequestList(Schema):
    """One page of the queue (`caseload.Page`)."""

    items = fields.List(fields.Nested(RequestSummary), required=True)
    page = fields.Integer(required=True, validate=validate.Range(min=1))
    per_page = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    total = fields.Integer(required=True, validate=validate.Range(min=0))


class Withheld(Schema):
    """A task's answer whose records carry another email address than the verified one:
    withheld whole until a handler releases or discards it."""

    status = fields.String(required=True, validate=one_of(HeldStatus))
    record_counts = Object(keys=fields.String(), values=fields.Integer(), required=True)
    other_email = fields.Integer(
        required=True,
        attribute="mismatched",
        metadata={"description": "Records carrying another email."},
    )
    decided_by = fields.String(required=True, allow_none=True)


class Task(Schema):
    """One system's part of a request."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    connector = fields.String(
        required=True, metadata={"description": "The connector instance's name."}
    )
    action = fields.String(required=True, metadata={"examples": ["access", "erase"]})
    status = fields.String(required=True, validate=one_of(TaskStatus))
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))
    last_error = fields.String(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True)
    record_counts = Object(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Records returned, per table."},
    )
    created_at = UtcDateTime(required=True)
    started_at = nullable_time()
    finished_at = nullable_time()
    withheld = ComputedNested(withheld.answer_of, Withheld, required=True, allow_none=True)


class Identifier(Schema):
    """An identifier besides the verified email (`claims.Identifier`). Systems match on it
    only once it is `proven` (a code sent to the phone, or a handler's decision)."""

    kind = fields.String(required=True, validate=one_of(claims.KINDS))
    value = fields.String(required=True, metadata={"description": "As the subject typed it."})
    status = fields.String(required=True, validate=one_of(["claimed", "proven"]))
    method = fields.String(
        required=True,
        allow_none=True,
        attribute="claim.method",
        dump_default=None,
        validate=one_of(["sms_code", "handler"]),
    )
    decided_by = fields.String(
        required=True, allow_none=True, attribute="claim.decided_by", dump_default=None
    )
    decided_at = UtcDateTime(
        required=True, allow_none=True, attribute="claim.decided_at", dump_default=None
    )
    note = fields.String(
        required=True,
        allow_none=True,
        attribute="claim.note",
        dump_default=None,
        metadata={"description": "The handler's reason."},
    )


class Event(Schema):
    """An event of the tamper-evident audit log."""

    id = fields.Integer(required=True)
    kind = fields.String(
        required=True, metadata={"examples": ["request.created", "status.changed"]}
    )
    actor = fields.String(
        required=True, metadata={"examples": ["subject", "system", "staff:ana@example.org"]}
    )
    created_at = UtcDateTime(required=True)
    data = Object(required=True)


def events_of(req) -> list:
    return audit.events_for(req.id)


class CaseNote(Schema):
    """A note for staff only, never shown to the person."""

    id = fields.Integer(required=True)
    author = fields.String(required=True, metadata={"description": "The staff member's email."})
    text = fields.String(required=True)
    created_at = UtcDateTime(required=True)


class Duplicate(Schema):
    """Another request of the same confirmed email for the same right, open at the same
    time, or merged with this one."""

    ref = fields.String(required=True)
    status = fields.String(required=True, validate=one_of(RequestStatus))
    received_at = UtcDateTime(required=True)


def merged_into(req) -> str | None:
    return next((o.ref for o in duplicates.linked(req) if o.id == req.merged_into_id), None)


class RequestDetail(RequestBase):
    """A request with its tasks, its identifiers' proofs and its audit events."""

    email = fields.String(required=True, metadata={"format": "email"})
    name = fields.String(required=True)
    language = fields.String(required=True, validate=one_of(["fr", "en"]))
    identifiers = Object(required=True)
    details = Object(required=True, metadata={"description": "Depends on `type` (see NewRequest)."})
    decisions = Object(
        required=True,
        metadata={
            "description": "A handler's decisions: `changes` (rectification: `index`, "
            "`accepted`, `fields` or `reason`) and `objection` (`upheld`, `activities`, "
            "`reasoning`)."
        },
    )
    restricted_at = nullable_time()
    restriction_lift_notified_at = nullable_time()
    restriction_lifted_at = nullable_time()
    verified_at = nullable_time()
    assignee = assignee_field()
    identity = ComputedList(claims.identifiers, fields.Nested(Identifier), required=True)
    tasks = fields.List(fields.Nested(Task), required=True)
    events = ComputedList(events_of, fields.Nested(Event), required=True)
    notes = ComputedList(notes.of_request, fields.Nested(CaseNote), required=True)
    duplicates = ComputedList(duplicates.linked, fields.Nested(Duplicate), required=True)
    merged_into = ComputedString(
        merged_into,
        required=True,
        allow_none=True,
        metadata={"description": "The request this one was merged into, if it was."},
    )


# --- questions to the person ------------------------------------------------------------


class QuestionFile(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    media_type = fields.String(
        required=True, validate=one_of(["application/pdf", "image/png", "image/jpeg"])
    )
    size = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)


class Question(Schema):
    """A question to the person (Art. 12(6)) and their answer."""

    id = fields.Integer(required=True)
    message = fields.String(required=True)
    asked_by = fields.String(required=True)
    asked_at = UtcDateTime(required=True)
    from_status = fields.String(required=True, validate=one_of(["open", "processing", "review"]))
    reminded_at = nullable_time()
    expires_at = ComputedTime(asking.expires_on, required=True)
    answered_at = nullable_time()
    answer = fields.String(required=True, allow_none=True)
    files = ComputedList(asking.files_of, fields.Nested(QuestionFile), required=True)
    expired_at = nullable_time()
    paused_days = fields.Integer(required=True, allow_none=True)


class Questions(Schema):
    ref = fields.String(required=True)
    questions = fields.List(fields.Nested(Question), required=True)


# --- the release ------------------------------------------------------------------------


class Release(Schema):
    ref = fields.String(required=True)
    status = fields.String(required=True, validate=one_of(RequestStatus))
    release_requested_at = nullable_time()
    released_at = nullable_time()
    release_error = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why the last build failed; the request stays in `review`."},
    )


class Transmission(Schema):
    ref = fields.String(required=True)
    transmitted_at = nullable_time()


def record_number(entry: dict) -> int | None:
    """Records are numbered from 1 here, as the case page shows them (from 0 in the pack)."""
    record = entry.get("record")
    return None if record is None else record + 1


class LeftOutEntry(Schema):
    """What a handler keeps out of the answer (a stored `left_out` entry, numbered)."""

    number = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "To put it back (DELETE)."},
    )
    connector = fields.String(required=True)
    table = fields.String(required=True)
    record = ComputedInteger(
        record_number,
        required=True,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "The record's number in its table (1 = the first returned); "
            "null when the whole table is left out. The manifest counts from 0."
        },
    )
    reason = fields.String(required=True, metadata={"description": "Shown in the letter's annex."})
    by = fields.String(
        required=True, dump_default=None, metadata={"description": "Who left it out."}
    )
    at = fields.String(required=True, dump_default=None, metadata={"format": "date-time"})


def numbered_entries(req) -> list[dict]:
    return [{**entry, "number": n} for n, entry in enumerate(req.left_out or [], 1)]


class LeftOut(Schema):
    ref = fields.String(required=True)
    left_out = ComputedList(numbered_entries, fields.Nested(LeftOutEntry), required=True)


# --- suppression, connectors -------------------------------------------------------------


class SuppressionRecord(Schema):
    kind = fields.String(required=True, validate=one_of(["email", *claims.KINDS]))
    request_ref = fields.String(required=True)
    created_at = UtcDateTime(required=True)


class Suppression(Schema):
    """Whether identifiers belong to a person erased here (a list of `dsr.models.Suppression`)."""

    suppressed = ComputedBoolean(bool, required=True)
    records = ComputedList(list, fields.Nested(SuppressionRecord), required=True)


class Answer(Schema):
    """A system's answer to a task: the callback's body, as `connectors.answer` reads it
    (streaming, with its own checks; this schema only describes it)."""

    status = fields.String(required=True, validate=one_of(["succeeded", "failed"]))
    records = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Dict()),
        metadata={"description": "Records found, per table."},
    )
    error = fields.String(metadata={"description": "Why it failed."})
    outcome = fields.String(metadata={"description": "What was done, in a few words."})
    task_id = fields.String(
        metadata={
            "format": "uuid",
            "description": "The task answered; when given, it must be the one in the URL.",
        }
    )


class CallbackAck(Schema):
    status = fields.String(
        required=True,
        validate=one_of(["accepted", "already_finished"]),
        metadata={
            "description": "`already_finished`: a repeated callback (the same signature "
            "again on its task, or a task finished already); nothing changed."
        },
    )
    task = fields.String(required=True, metadata={"format": "uuid"})
    task_status = fields.String(validate=one_of(TaskStatus))


# One instance of each, for the views (a marshmallow 4 schema keeps no state between dumps).
ERROR = Error()
CREATED = Created()
HEALTH = Health()
REQUEST_LIST = RequestList()
REQUEST_DETAIL = RequestDetail()
CASE_NOTE = CaseNote()
QUESTIONS = Questions()
TASK = Task()
IDENTIFIER = Identifier()
RELEASE = Release()
TRANSMISSION = Transmission()
LEFT_OUT = LeftOut()
SUPPRESSION = Suppression()
CALLBACK_ACK = CallbackAck()
