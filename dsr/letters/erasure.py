"""The answer to a right to erasure (GDPR Art. 17, 19): the letter, as DOCX bytes.

Per system, what it erased (its summary, quoted) and whether it did; what a legal hold of
the register kept (Art. 17(3)(b)), with its ground and how long, restricted to that
obligation; the recipients of the processing concerned (Art. 19). A legal hold is reported
only for the systems that carried out the erasure: elsewhere nothing was erased, and the
letter says so.
"""

from datetime import datetime

from dsr import systems
from dsr.letters.common import label, letter_bytes, results
from dsr.letters.register import activities_on, legal_holds, recipients
from dsr.models import DataRequest
from dsr.models.task import TaskStatus
from dsr.models.types import utcnow

TEMPLATE = "letters/erasure.html"


def erasure_letter(request: DataRequest, *, answered_at: datetime | None = None) -> bytes:
    """The Art. 17 letter for `request`; `answered_at` defaults to now."""
    answered_at = answered_at or utcnow()
    return letter_bytes(request, TEMPLATE, erasure_context(request, answered_at), answered_at)


def erasure_context(request: DataRequest, answered_at: datetime) -> dict:
    """What an erasure's letter says (also a death notice's that erased): each system's
    result, the legal holds of the systems that erased, with until when, the recipients."""
    register, language = systems.register(), request.language
    done = results(request, "erase")
    erased = [row["connector"] for row in done if row["status"] == TaskStatus.SUCCEEDED]
    holds = legal_holds(register, erased, language)
    for hold in holds:
        hold["fields"] = [(label(c), fields) for c, fields in hold["fields"].items()]
        hold["until"] = years_after(answered_at, int(hold["years"])) if hold["years"] else None
    concerned = activities_on(register, [row["connector"] for row in done])
    return {
        "systems": done,
        "holds": holds,
        "recipients": recipients(concerned, language),
    }


def years_after(instant: datetime, years: int) -> datetime:
    """The same day `years` later (28 February for a 29 February)."""
    try:
        return instant.replace(year=instant.year + years)
    except ValueError:
        return instant.replace(year=instant.year + years, day=28)
