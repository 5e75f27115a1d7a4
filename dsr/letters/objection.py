"""The answer to a right to object (GDPR Art. 21): the letter, as DOCX bytes.

Direct marketing (Art. 21(2)-(3)): the marketing processing stopped, per system. A
particular situation (Art. 21(1)): the handler's decision (`decisions["objection"]`): upheld,
the activities stopped and what each system did; not upheld, the compelling legitimate
grounds (the handler's reasoning) and the person's remedies. Without a decision the release
stops (`MissingDecision`).
"""

from datetime import datetime

from flask_babel import gettext as _

from dsr import systems
from dsr.letters.common import MissingDecision, letter_bytes, results
from dsr.letters.register import purposes
from dsr.models import DataRequest

TEMPLATE = "letters/objection.html"


def objection_letter(request: DataRequest, *, answered_at: datetime | None = None) -> bytes:
    """The Art. 21 letter for `request`; `answered_at` defaults to now."""
    details, register = request.details or {}, systems.register()
    marketing = details.get("basis") == "direct_marketing"
    decision = {} if marketing else (request.decisions or {}).get("objection")
    if decision is None:
        raise MissingDecision(_("The objection has no decision: record it first."))
    context = {
        "marketing": marketing,
        "processing": details.get("processing") or "",
        "upheld": marketing or bool(decision.get("upheld")),
        "stopped": purposes(register, decision.get("activities") or [], request.language),
        "reasoning": decision.get("reasoning") or "",
        "systems": results(request, "object", register),
    }
    return letter_bytes(request, TEMPLATE, context, answered_at)
