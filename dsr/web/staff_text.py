"""The staff pages' words: statuses, actions and audit events as the privacy team reads them.

The status titles in `dsr.status` speak to the subject ("waiting for you to
confirm"); these speak about the case. Anything without an entry here shows
its raw name, so a new event kind is never hidden.
"""

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.models import TaskStatus
from dsr.status import RequestStatus

S, T = RequestStatus, TaskStatus

STATUS_TITLES = {
    S.UNVERIFIED: _l("Unverified (email not confirmed)"),
    S.OPEN: _l("Open"),
    S.PROCESSING: _l("Processing"),
    S.REVIEW: _l("In review"),
    S.COMPLETED: _l("Completed"),
    S.AWAITING_SUBJECT: _l("Awaiting the subject"),
    S.REJECTED: _l("Rejected"),
    S.WITHDRAWN: _l("Withdrawn"),
    S.EXPIRED: _l("Expired (never confirmed, or a question unanswered)"),
}

TASK_STATUS_TITLES = {
    T.PENDING: _l("Waiting to be queued"),
    T.QUEUED: _l("Queued"),
    T.RUNNING: _l("Running"),
    T.WAITING_CALLBACK: _l("Waiting for an answer"),
    T.SUCCEEDED: _l("Done"),
    T.FAILED: _l("Failed"),
    T.SKIPPED: _l("Skipped"),
    T.CANCELLED: _l("Cancelled (the request was closed)"),
}

ACTION_TITLES = {
    "access": _l("Collect the data"),
    "erase": _l("Erase"),
    "rectify": _l("Correct"),
    "restrict": _l("Restrict"),
    "lift_restriction": _l("Lift the restriction"),
    "object": _l("Stop the processing"),
    "withdraw_consent": _l("Withdraw consent"),
}

EVENT_TITLES = {
    "request.created": _l("Request received"),
    "status.changed": _l("Status changed"),
    "mail.sent": _l("Email sent"),
    "verification.resent": _l("New confirmation link sent"),
    "processing.planned": _l("Processing started"),
    "task.attempt_failed": _l("An attempt failed; it will be retried"),
    "task.succeeded": _l("Task done"),
    "task.failed": _l("Task failed"),
    "task.retried": _l("Task retried"),
    "task.rerun": _l("Task run again with the proven identifiers"),
    "task.requeued": _l("Task queued again"),
    "sms.sent": _l("Text message sent"),
    "identity.code_sent": _l("Code sent to prove a phone number"),
    "identity.code_failed": _l("Too many wrong codes: the code was voided"),
    "identity.proven": _l("Identifier proven"),
    "identity.tasks_rerun": _l("Tasks run again with the proven identifiers"),
    "identity.answer_withheld": _l("Answer withheld: records carry another email address"),
    "identity.answer_released": _l("Withheld records released"),
    "identity.answer_discarded": _l("Withheld records discarded"),
    "task.cancelled": _l("Task cancelled: the request was closed"),
    "release.left_out": _l("Left out of the answer"),
    "release.left_out_undone": _l("Put back into the answer"),
    "release.requested": _l("Release of the answer asked for"),
    "release.failed": _l("The answer could not be built"),
    "release.done": _l("Answer released"),
    "export.built": _l("Answer pack built"),
    "export.downloaded": _l("Answer pack downloaded"),
    "transmission.sent": _l("Pack sent to the organisation the person named"),
    "transmission.downloaded": _l("Pack downloaded by the organisation the person named"),
    "decision.change": _l("Decision on a requested correction"),
    "decision.objection": _l("Decision on the objection"),
    "suppression.recorded": _l("Suppression records kept"),
    "recipients.notified": _l("Recipients notified (Art. 19)"),
    "restriction.in_force": _l("Restriction in force"),
    "restriction.lift_announced": _l("Lifting of the restriction announced to the person"),
    "restriction.lift_started": _l("Systems asked to lift the restriction"),
    "restriction.lifted": _l("Restriction lifted"),
    "directives.registered": _l("Directives registered"),
    "directives.revoked": _l("Directives revoked"),
    "document.uploaded": _l("Document sent by the person"),
    "document.viewed": _l("Document opened"),
    "deadline.extended": _l("Deadline extended"),
    "decision.refusal": _l("Request refused"),
    "request.closed": _l("Closed: answered by another channel"),
    "note.added": _l("Note added"),
    "duplicate.merged": _l("Duplicate merged"),
    "question.asked": _l("Question to the person"),
    "question.reminded": _l("Reminder sent to the person"),
    "question.answered": _l("The person answered"),
    "question.expired": _l("No answer: the request closed"),
}

#: longest text of one value in a timeline summary
SUMMARY_VALUE_LIMIT = 300


def title(titles: dict, name: str) -> str:
    """The title of `name` in `titles`, or the name itself."""
    found = titles.get(name)
    return str(found) if found is not None else name


def status_label(status: str) -> str:
    return title(STATUS_TITLES, status)


def is_scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def cell(value) -> str:
    """One value of a record or an event as text.

    A list of plain values reads as "a, b"; other nested data as compact JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(is_scalar(item) for item in value):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def event_summary(kind: str, data: dict) -> str:
    """An event's data in one line: a status change in words, anything else as `key: value`."""
    data = data or {}
    if kind == "status.changed" and {"from", "to"} <= data.keys():
        line = f"{status_label(data['from'])} → {status_label(data['to'])}"
        if data.get("reason"):
            line = _("%(line)s (%(reason)s)", line=line, reason=data["reason"])
        return line
    parts = []
    for key, value in data.items():
        text = cell(value)
        if len(text) > SUMMARY_VALUE_LIMIT:
            text = text[: SUMMARY_VALUE_LIMIT - 1] + "…"
        parts.append(f"{key}: {text}")
    return "; ".join(parts)
