"""The privacy team's list of requests: filters, order by deadline, pages, days left.

The staff queue page and `GET /api/v1/requests` both read it, so a filter
means the same in both. Days are counted in the controller's time zone: a
request due today has 0 days left, and is overdue from the next local day.
While the clock is paused (awaiting the subject) or once the request is
closed, there is no count: the due date is not running.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, func, not_, select

import workflows
from dsr import deadlines
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.operations import controller_settings
from dsr.status import RequestStatus

#: `status` filter values besides a status: every status, or (the default) every open one
ALL, NOT_FINAL = "all", ""
FINAL = tuple(s for s in RequestStatus if s.is_final)
#: statuses whose deadline is running
CLOCK_RUNNING = tuple(s for s in RequestStatus if not s.is_final and not s.pauses_clock)


class FilterError(ValueError):
    """Filter values that mean nothing; `fields` maps each parameter to its messages."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(", ".join(fields))
        self.fields = fields


@dataclass(frozen=True)
class Filters:
    status: str = NOT_FINAL
    type: str = ""
    #: True: only overdue requests; False: none of them; None: both
    overdue: bool | None = None
    page: int = 1
    per_page: int = 25
    #: only requests whose restriction (Art. 18) is in force, whatever their status by default
    restricted: bool = False


@dataclass(frozen=True)
class Page:
    items: list[DataRequest]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


#: more pages than anyone will have, small enough for any database's OFFSET
MAX_PAGE = 1_000_000


def positive_int(value: str, upper: int) -> int | None:
    number = int(value) if value.isascii() and value.isdigit() else 0
    return number if 1 <= number <= upper else None


def one_of(values) -> str:
    return _("Use one of: %(values)s.", values=", ".join(values))


def parse_filters(args: Mapping[str, str], *, per_page: int = 25, max_per_page: int = 0) -> Filters:
    """Filters from query parameters; `per_page` is read only when `max_per_page` is given."""
    errors: dict[str, list[str]] = {}
    status, type_name = args.get("status", NOT_FINAL), args.get("type", "")
    if status not in (NOT_FINAL, ALL, *RequestStatus):
        errors["status"] = [one_of([ALL, *RequestStatus])]
    if type_name and type_name not in workflows.names():
        errors["type"] = [one_of(workflows.names())]
    overdue = {"": None, "true": True, "false": False}.get(args.get("overdue", ""), "bad")
    if overdue == "bad":
        errors["overdue"] = [_("Use true or false.")]
    restricted = args.get("restricted", "")
    if restricted not in ("", "true"):
        errors["restricted"] = [_("Use true, or leave it out.")]
    page = positive_int(args.get("page", "1"), MAX_PAGE)
    if page is None:
        errors["page"] = [_("Use a whole number from 1 to %(max)d.", max=MAX_PAGE)]
    if max_per_page:
        per_page = positive_int(args.get("per_page", str(per_page)), max_per_page)
        if per_page is None:
            errors["per_page"] = [_("Use a whole number from 1 to %(max)d.", max=max_per_page)]
    if errors:
        raise FilterError(errors)
    return Filters(status, type_name, overdue, page, per_page, restricted == "true")


def effective_due():
    """The deadline in force, in SQL (as `DataRequest.effective_due_at`)."""
    return func.coalesce(DataRequest.extended_due_at, DataRequest.due_at)


def local_today(now: datetime | None = None) -> date:
    _country, tz = controller_settings()
    return deadlines.local_date(now or utcnow(), tz)


def overdue_condition(today: date):
    """Running clock and a deadline that ended before today began, local time."""
    _country, tz = controller_settings()
    start_of_today = datetime.combine(today, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return and_(DataRequest.status.in_(CLOCK_RUNNING), effective_due() < start_of_today)


def search(filters: Filters, now: datetime | None = None) -> Page:
    """One page of the requests the filters select, the earliest deadline first."""
    query = select(DataRequest)
    if filters.restricted:
        query = query.where(
            DataRequest.restricted_at.is_not(None), DataRequest.restriction_lifted_at.is_(None)
        )
    if filters.status == NOT_FINAL:
        if not filters.restricted:  # a restriction stays in force on a closed request
            query = query.where(DataRequest.status.not_in(FINAL))
    elif filters.status != ALL:
        query = query.where(DataRequest.status == filters.status)
    if filters.type:
        query = query.where(DataRequest.type == filters.type)
    if filters.overdue is not None:
        condition = overdue_condition(local_today(now))
        query = query.where(condition if filters.overdue else not_(condition))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(effective_due(), DataRequest.id)
    offset = (filters.page - 1) * filters.per_page
    items = list(db.session.scalars(ordered.limit(filters.per_page).offset(offset)))
    return Page(items, total, filters.page, filters.per_page)


def by_ref(ref: str) -> DataRequest | None:
    """The request with this reference (`DSR-YYYY-NNNNNN`), if there is one."""
    return db.session.scalar(select(DataRequest).where(DataRequest.ref == ref))


def days_left(request: DataRequest, today: date | None = None) -> int | None:
    """Days until the deadline, local time (negative once overdue); None if it is not running."""
    status = request.status_enum
    if status.is_final or status.pauses_clock:
        return None
    _country, tz = controller_settings()
    return (deadlines.local_date(request.effective_due_at, tz) - (today or local_today())).days
