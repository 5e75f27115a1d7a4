"""The answer to a right to restriction (GDPR Art. 18): the letter, as DOCX bytes.

Since when the restriction is in force (`request.restricted_at`; not yet when a system has
still to carry it out), what each system did, what restriction means (Art. 18(2)), that the
person is told before it is lifted (Art. 18(3)), and the recipients of the processing
concerned (Art. 19).
"""

from datetime import datetime

from dsr import systems
from dsr.letters.common import letter_bytes, results
from dsr.letters.register import activities_on, recipients
from dsr.models import DataRequest

TEMPLATE = "letters/restriction.html"


def restriction_letter(request: DataRequest, *, answered_at: datetime | None = None) -> bytes:
    """The Art. 18 letter for `request`; `answered_at` defaults to now."""
    done = results(request, "restrict")
    concerned = activities_on(systems.register(), [row["connector"] for row in done])
    context = {"systems": done, "recipients": recipients(concerned, request.language)}
    return letter_bytes(request, TEMPLATE, context, answered_at)
