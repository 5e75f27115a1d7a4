"""The status page's history: the audit events a person should know of, in plain words.

The audit log records everything the engine and the team did; the person reads
only what concerns them. An event without a sentence here (a task's attempt, a
decision's record, a staff note) is left out rather than shown as a vague "case
updated", and the same news twice in a row (a task cancelled on each system, an
email to each recipient) reads once.
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.models import AuditEvent
from dsr.status import RequestStatus

S = RequestStatus

#: event kind -> what the person reads; kinds not here are not shown
SENTENCES = {
    "request.created": _l("We received your request."),
    "sms.sent": _l("We sent a code to your phone by text message."),
    "identity.code_failed": _l("Too many wrong codes were entered: that code no longer works."),
    "identity.proven": _l("One of the identifiers you gave is proven."),
    "task.cancelled": _l("We stopped the work that was under way in our systems."),
    "release.done": _l("Our answer is ready to download."),
    "transmission.sent": _l("We sent your data to the organisation you named."),
    "transmission.downloaded": _l("The organisation you named downloaded your data."),
    "restriction.in_force": _l("The restriction of your data is in force."),
    "restriction.lifted": _l("The restriction of your data was lifted."),
    "directives.registered": _l("Your directives are registered."),
    "directives.revoked": _l("Your directives are revoked."),
    "document.uploaded": _l("We received a document from you."),
    "question.asked": _l("The privacy team asked you for information."),
    "question.reminded": _l("We reminded you that we are waiting for your answer."),
    "question.answered": _l("We received your answer."),
    "question.expired": _l("We closed the request: our question went unanswered."),
    "deadline.extended": _l("We extended the deadline; our email gives the reasons."),
    "request.closed": _l("We answered your request by another means."),
    "duplicate.merged": _l("We merged this request with your other request for the same right."),
    "retention.results_deleted": _l(
        "The files of our answer were deleted at the end of their retention period."
    ),
}

#: the status a request moved to -> what the person reads
STATUS_SENTENCES = {
    S.OPEN: _l("Your request is in our queue."),
    S.PROCESSING: _l("We started the work in our systems."),
    S.REVIEW: _l("Our systems have answered; the privacy team is checking our answer."),
    S.COMPLETED: _l("Your request is completed."),
    S.AWAITING_SUBJECT: _l("We are waiting for information from you; the deadline is paused."),
    S.REJECTED: _l("We refused your request; our email gives the reasons."),
    S.WITHDRAWN: _l("You withdrew your request."),
    S.EXPIRED: _l("The request was closed: the email address was never confirmed."),
}

#: the email (its template) -> what the person reads; any other email to them is "an email"
MAIL_SENTENCES = {
    "verify": _l("We emailed you a link to confirm your address."),
    "confirmed": _l("We emailed you the confirmation of your request, with the link to this page."),
    "status_link": _l("We emailed you the link to this page again."),
    "withdrawn": _l("We emailed you the confirmation of the withdrawal."),
    "answer_ready": _l("We emailed you that our answer is ready."),
    "restriction_lift": _l("We emailed you that the restriction of your data will be lifted."),
    "transfer_sent": _l("We emailed you that your data went to the organisation you named."),
    "directives_registered": _l("We emailed you the confirmation of your directives."),
    "directives_revoked": _l("We emailed you the confirmation that your directives are revoked."),
    "question": _l("We emailed you our question."),
    "question_reminder": _l("We emailed you a reminder of our question."),
    "question_expired": _l("We emailed you that the request is closed without your answer."),
    "deadline_extended": _l("We emailed you the new deadline and the reasons for it."),
    "rejected": _l("We emailed you the reasons for our refusal and your remedies."),
    "closed": _l("We emailed you that your request is closed."),
    "merged": _l("We emailed you that this request was merged with your other one."),
}


def status_sentence(data: dict) -> str | None:
    target = data.get("to")
    if target == S.OPEN and data.get("from") == S.UNVERIFIED:
        return _("You confirmed your email address; your request is in our queue.")
    if target == S.EXPIRED and data.get("from") == S.AWAITING_SUBJECT:
        return None  # "question.expired" says why
    if target == S.PROCESSING and data.get("from") == S.REVIEW:
        return _("We are working on your request in our systems again.")
    found = STATUS_SENTENCES.get(target)
    return str(found) if found is not None else None


def mail_sentence(data: dict) -> str:
    if data.get("to") == "recipient":
        if data.get("template") == "recipient_notice":
            return _("We told a recipient of your data to do the same (Art. 19).")
        return _("We emailed the organisation you named a link to your data.")
    found = MAIL_SENTENCES.get(data.get("template"))
    return str(found) if found is not None else _("We sent you an email.")


def sentence(event: AuditEvent) -> str | None:
    """What the person reads of `event`, or None when it is not theirs to read."""
    data = event.data or {}
    if event.kind == "status.changed":
        return status_sentence(data)
    if event.kind == "mail.sent":
        return mail_sentence(data)
    if event.kind == "export.downloaded":
        # the team's own downloads are theirs, not the person's
        return _("You downloaded our answer.") if event.actor == "subject" else None
    found = SENTENCES.get(event.kind)
    return str(found) if found is not None else None


def timeline(events: list[AuditEvent]) -> list[tuple[datetime, str]]:
    """(instant, sentence) for the events the person reads, oldest first, without repeats."""
    lines: list[tuple[datetime, str]] = []
    for event in events:
        text = sentence(event)
        if text is None or (lines and lines[-1][1] == text):
            continue
        lines.append((event.created_at, text))
    return lines
