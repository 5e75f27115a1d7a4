"""Article 19: the recipients of the data told of a rectification, erasure or restriction.

The register's activities list their recipients; a recipient with a `notify`
email address gets a notice once every system has done the work (the type's
"notify_recipients" effect), the others are listed in the person's answer
letter. Only the activities that run on a system of the request count. Each
notice is an email job; the audit event names how many and their mail domains.
"""

import hashlib
from collections.abc import Mapping

from connectors.outcome import NO_DATA
from dsr import after_commit, audit, mail, systems
from dsr.identity import claims
from dsr.letters.register import localized
from dsr.models import DataRequest, TaskStatus
from workflows.processing_register import activity_connectors

NOTIFIED = "recipients.notified"
#: what the notice says was done, by request type
DONE = {
    "rectification": "rectified",
    "erasure": "erased",
    "restriction": "restricted",
    "post_mortem": "erased",  # a death notice tells recipients only when it erased
}


def concerned(request: DataRequest) -> list[tuple[Mapping, set[str]]]:
    """The register's recipients of the activities that run on the systems that did the
    work for this request (a system skipped, or that found nothing, passed nothing on),
    each once by its English text (the entry with a `notify` address wins), with the
    systems whose data it received."""
    connectors = {
        task.connector
        for task in request.tasks
        if task.status == TaskStatus.SUCCEEDED and not (task.outcome or "").startswith(NO_DATA)
    }
    seen: dict[str, tuple[Mapping, set[str]]] = {}
    for activity in systems.register().get("activities", []):
        running = activity_connectors(activity) & connectors
        if not running:
            continue
        for recipient in activity.get("recipients", []):
            entry = recipient if isinstance(recipient, Mapping) else {"en": str(recipient)}
            key = localized(text_of(entry), "en")
            known, sources = seen.get(key, (entry, set()))
            if entry.get("notify") and not known.get("notify"):
                known = entry
            seen[key] = (known, sources | running)
    return list(seen.values())


def text_of(entry: Mapping) -> Mapping:
    """A recipient's {fr, en} description, without its `notify` address."""
    return {k: v for k, v in entry.items() if k != "notify"}


def to_notify(request: DataRequest) -> list[tuple[str, str, set[str]]]:
    """(name in the request's language, email, systems) of the recipients that take a
    notice."""
    return [
        (localized(text_of(entry), request.language), entry["notify"], sources)
        for entry, sources in concerned(request)
        if entry.get("notify")
    ]


def accepted_changes(request: DataRequest, connectors: set[str]) -> list[dict]:
    """The changes of a rectification a handler accepted that correct data of `connectors`,
    as the person asked for them: a recipient hears only of the data it received."""
    changes = (request.details or {}).get("changes", [])
    return [
        changes[d["index"]]
        for d in (request.decisions or {}).get("changes", [])
        if d.get("accepted")
        and d["index"] < len(changes)
        and {str(f).partition(".")[0] for f in d.get("fields", [])} & connectors
    ]


def notify(request: DataRequest) -> int:
    """Record and queue the notices (in the caller's transaction, mailed by jobs) to the
    recipients not told yet: the tasks may run again, and then reach more systems."""
    told = {
        digest
        for event in audit.events_for(request.id)
        if event.kind == NOTIFIED
        for digest in (event.data or {}).get("addresses", [])
    }
    notices = [(n, e, c) for n, e, c in to_notify(request) if address_digest(e) not in told]
    if not notices:
        return 0
    audit.record(
        NOTIFIED,
        actor="system",
        request_id=request.id,
        data={
            "count": len(notices),
            "domains": sorted({e.rpartition("@")[2] for _n, e, _c in notices}),
            "addresses": sorted(address_digest(e) for _n, e, _c in notices),
        },
    )
    person = claims.proven_subject(request)  # a death notice's: the deceased
    for name, email, sources in notices:
        after_commit.later(
            mail.send_later,
            request.id,
            "recipient_notice",
            to=email,
            recipient_name=name,
            done=DONE[request.type],
            after_death=request.type == "post_mortem",
            person_name=person.name,
            person_email=person.email,
            corrections=accepted_changes(request, sources),
        )
    return len(notices)


def address_digest(email: str) -> str:
    """How the audit chain remembers whom it told: a hash, not the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
