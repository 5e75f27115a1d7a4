"""The answer to a withdrawal of consent (GDPR Art. 7(3)): the letter, as DOCX bytes.

The purposes the person named (register activities by id, else their own words, quoted),
what each system did for the activities it was told about, and that the processing done
before the withdrawal stays lawful.
"""

from datetime import datetime

from dsr import systems
from dsr.letters.common import letter_bytes, results
from dsr.letters.register import purposes
from dsr.models import DataRequest

TEMPLATE = "letters/consent_withdrawal.html"


def consent_withdrawal_letter(
    request: DataRequest, *, answered_at: datetime | None = None
) -> bytes:
    """The Art. 7(3) letter for `request`; `answered_at` defaults to now."""
    register = systems.register()
    named = (request.details or {}).get("purposes") or []
    context = {
        "named": purposes(register, named, request.language),
        "systems": results(request, "withdraw_consent", register),
    }
    return letter_bytes(request, TEMPLATE, context, answered_at)
