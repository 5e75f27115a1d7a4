"""The register of requests (GDPR Art. 5(2)): every request with its dates, right, outcome and
whether it was answered on time, for a supervisory authority to be shown.

Nothing of the person is in it but the reference: no name, email, identifier
or detail. Dates are local dates in the controller's time zone. *Answered* and
*on time* mean what they mean on the dashboard (`dsr.dashboard`); a request
still open whose running deadline has passed is already late; one withdrawn,
expired, paused or still within its deadline has no answer yet to judge.
The rows are read a thousand at a time (`dsr.web.register_csv` writes them).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from dsr import deadlines
from dsr.dashboard import ANSWERED
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.operations import controller_settings
from dsr.status import RequestStatus

#: rows fetched from the database at a time
BATCH = 1000


@dataclass(frozen=True)
class Entry:
    ref: str
    type: str
    status: str
    received: date
    due: date
    extended_to: date | None
    answered: date | None
    #: True or False once answered or late; None while there is nothing to judge
    on_time: bool | None


def judged(status: str, due: datetime, closed: datetime | None, now: datetime) -> bool | None:
    """Whether the answer came by the deadline; False already for an open request past it."""
    if status in ANSWERED:
        return closed <= due
    current = RequestStatus(status)
    running = not current.is_final and not current.pauses_clock
    return False if running and due < now else None


def entries(now: datetime | None = None) -> Iterator[Entry]:
    """One entry per request, in order of receipt."""
    now = now or utcnow()
    _country, tz = controller_settings()

    def day(moment: datetime | None) -> date | None:
        return deadlines.local_date(moment, tz) if moment else None

    query = select(
        DataRequest.ref,
        DataRequest.type,
        DataRequest.status,
        DataRequest.received_at,
        DataRequest.due_at,
        DataRequest.extended_due_at,
        DataRequest.closed_at,
    ).order_by(DataRequest.received_at, DataRequest.id)
    for ref, type_name, status, received, due, extended, closed in db.session.execute(
        query.execution_options(yield_per=BATCH)
    ):
        yield Entry(
            ref,
            type_name,
            status,
            day(received),
            day(due),
            day(extended),
            day(closed) if status in ANSWERED else None,
            judged(status, extended or due, closed, now),
        )
