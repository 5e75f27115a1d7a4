"""The answer to a death notice (Loi 78-17 Art. 85): the letter, as DOCX bytes.

What the handler found (the deceased's directives in force, with their date, or none and
the heirs' rights asked for), then what was carried out: an erasure (each system's result,
the legal holds kept, the recipients told, as the erasure letter says them), the data
handed over to the designated person (they are in the pack), opposition to further
processing, or nothing changed when the directives ask to keep the data.
"""

from datetime import datetime

from dsr import systems
from dsr.letters.common import MissingDecision, letter_bytes, results
from dsr.letters.erasure import erasure_context
from dsr.models import DataRequest
from dsr.models.types import utcnow
from workflows.post_mortem import DIRECTIVES, HEIRS_RIGHTS, erases

TEMPLATE = "letters/post_mortem.html"
#: what the systems were asked to do, by what was carried out
ACTIONS = {"hand_over": "access", "heirs": "object"}


def post_mortem_letter(request: DataRequest, *, answered_at: datetime | None = None) -> bytes:
    """The letter answering a death notice; `answered_at` defaults to now."""
    answered_at = answered_at or utcnow()
    decision = (request.decisions or {}).get("death_notice")
    if not decision:
        raise MissingDecision("the death notice's documents were not checked")
    case = systems.case_of(request)
    if erases(case):
        context = erasure_context(request, answered_at)
    else:
        action = ACTIONS.get(decision["execute"])
        context = {"systems": results(request, action, systems.register()) if action else []}
    registered = decision.get("directive_registered_at")
    context.update(
        deceased=(request.details or {}).get("deceased_name", ""),
        execute=decision["execute"],
        erased=erases(case),
        directive=DIRECTIVES.get(decision["execute"]),
        directive_registered=datetime.fromisoformat(registered) if registered else None,
        heirs_rights=[HEIRS_RIGHTS[r] for r in decision.get("heirs_rights", [])],
    )
    return letter_bytes(request, TEMPLATE, context, answered_at)
