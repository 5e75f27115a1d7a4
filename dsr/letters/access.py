"""The answer to a right of access (GDPR Art. 15): the letter, as DOCX bytes.

The letter says what Art. 15(1) and (2) ask, from the processing register of
the instance TOML, in the subject's language; its words are in
`templates/letters/access.html`. It lists the activities that concern the
person: those whose tables (their `fields`), or whose systems when they name no
fields, returned records for this request. Art. 15(1) is about the processing of
*their* data: an activity of a system that holds nothing on them is not theirs.
An activity that names neither fields nor systems is always listed, since no
search can rule it out. When no system found anything, the letter says so.

Runs in a worker with an app context; needs no web request and no `dsr.web`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from dsr import systems
from dsr.letters.common import label, letter_bytes, tasks_of
from dsr.letters.register import activities_for, localized
from dsr.models import DataRequest, Task
from dsr.models.task import TaskStatus

TEMPLATE = "letters/access.html"


@dataclass(frozen=True)
class Withheld:
    """What a handler left out of the answer (Art. 15(4): the rights of others)."""

    connector: str
    table: str
    reason: str
    #: which record, as the handler names it; None when the whole table is left out
    record: str | None = None


def access_letter(
    request: DataRequest,
    *,
    not_communicated: Iterable[Withheld | Mapping] = (),
    answered_at: datetime | None = None,
) -> bytes:
    """The Art. 15 letter for `request`, as the bytes of a DOCX file; `answered_at`
    defaults to now."""
    withheld = [
        item if isinstance(item, Withheld) else Withheld(**item) for item in not_communicated
    ]
    return letter_bytes(request, TEMPLATE, letter_context(request, withheld), answered_at)


def letter_context(request: DataRequest, withheld: list[Withheld]) -> dict:
    """What the access template adds to the shared context, every register text already in
    the request's language."""
    language = request.language
    tasks = tasks_of(request, "access")
    found = {
        (task.connector, table)
        for task in tasks
        for table, count in (task.record_counts or {}).items()
        if count
    }
    controller = current_app.config["INSTANCE"]["controller"]
    return {
        "fees": localized((controller.get("fees") or {}).get("note"), language),
        "systems": [system_rows(task) for task in tasks],
        "found": bool(found),
        "activities": activities_for(systems.register(), found, language),
        "withheld": [{"system": label(item.connector), **vars(item)} for item in withheld],
    }


def system_rows(task: Task) -> dict:
    """One system's part of the table: its label, what it was asked and what it returned.

    `searched` is False when the system was not asked (no identifier it finds people by)
    or did not answer; `tables` holds only the tables that returned records.
    """
    counts = task.record_counts or {}
    return {
        "label": label(task.connector),
        "searched": task.status == TaskStatus.SUCCEEDED,
        "tables": [(table, counts[table]) for table in sorted(counts) if counts[table]],
    }
