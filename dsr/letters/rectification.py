"""The answer to a right to rectification (GDPR Art. 16, 19): the letter, as DOCX bytes.

Each change the person asked for, with the handler's decision (`decisions["changes"]`):
accepted, with what each system that holds the field did; or refused, with the reason. Then
the recipients of the processing of the corrected fields (Art. 19). A change without a
decision stops the release (`MissingDecision`): the letter never guesses one.
"""

from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _

from dsr import systems
from dsr.letters.common import MissingDecision, letter_bytes, result, tasks_of
from dsr.letters.register import covering, recipients
from dsr.models import DataRequest

TEMPLATE = "letters/rectification.html"


def rectification_letter(request: DataRequest, *, answered_at: datetime | None = None) -> bytes:
    """The Art. 16 letter for `request`; `answered_at` defaults to now."""
    decided = {d.get("index"): d for d in (request.decisions or {}).get("changes", [])}
    changes = [
        change_row(request, index, change, decided.get(index))
        for index, change in enumerate((request.details or {}).get("changes", []))
    ]
    corrected = [f for change in changes if change["accepted"] for f in change["fields"]]
    context = {
        "changes": changes,
        "any_accepted": any(change["accepted"] for change in changes),
        "recipients": recipients(covering(systems.register(), corrected), request.language),
    }
    return letter_bytes(request, TEMPLATE, context, answered_at)


def change_row(request: DataRequest, index: int, change: Mapping, decision: Mapping | None) -> dict:
    """One requested change, its decision and, when accepted, each `rectify` task of a
    system that holds one of the fields it corrects."""
    if decision is None:
        raise MissingDecision(
            _("Change %(number)d has no decision: accept or refuse it first.", number=index + 1)
        )
    accepted = bool(decision.get("accepted"))
    fields = list(decision.get("fields") or []) if accepted else []
    connectors = {str(field).partition(".")[0] for field in fields}
    return {
        "field": change.get("field", ""),
        "current": change.get("current_value") or "",
        "corrected": change.get("corrected_value", ""),
        "accepted": accepted,
        "fields": fields,
        "reason": decision.get("reason") or "",
        "systems": [result(t) for t in tasks_of(request, "rectify") if t.connector in connectors],
    }
