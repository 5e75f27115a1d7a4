"""The privacy team's list of requests: search, filters, order by deadline, pages, days left.

The staff queue page and `GET /api/v1/requests` both read it, so a filter
means the same in both. The search looks for its text in the reference, the
email and the name (case-insensitive; SQLite folds ASCII letters only).
Days are counted in the controller's time zone: a request due today has 0
days left, and is overdue from the next local day.
While the clock is paused (awaiting the subject) or once the request is
closed, there is no count: the due date is not running.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, not_, or_, select
from sqlalchemy.orm import selectinload

import workflows
from dsr import deadlines
from dsr.extensions import db
from dsr.models import DataRequest, StaffUser
from dsr.models.types import utcnow
from dsr.operations import controller_settings
from dsr.status import RequestStatus
from workflows.fields import ONE_LINE, forbidden_characters

#: `status` filter values besides a status: every status, or (the default) every open one
ALL, NOT_FINAL = "all", ""
NOT_CLOSED = tuple(s for s in RequestStatus if not s.is_final)
#: statuses whose deadline is running
CLOCK_RUNNING = tuple(s for s in RequestStatus if not s.is_final and not s.pauses_clock)
#: `assignee` filter values besides a staff member's email: the one asking, or nobody
MINE, NOBODY = "mine", "none"
#: `due` filter value: a running deadline within the days that the queue flags as soon
DUE_WEEK = "week"
#: days left that count as "due this week" (the queue flags the same as due soon)
WEEK_DAYS = 7
#: longest search text
MAX_SEARCH = 254


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
    #: text searched in the reference, email and name
    q: str = ""
    #: MINE, NOBODY, or a staff member's email (lower-case); "": anyone
    assignee: str = ""
    #: DUE_WEEK: only running deadlines due within `WEEK_DAYS` days; "": any
    due: str = ""


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
    q, assignee, due = search_filters(args, errors)
    page = positive_int(args.get("page", "1"), MAX_PAGE)
    if page is None:
        errors["page"] = [_("Use a whole number from 1 to %(max)d.", max=MAX_PAGE)]
    if max_per_page:
        per_page = positive_int(args.get("per_page", str(per_page)), max_per_page)
        if per_page is None:
            errors["per_page"] = [_("Use a whole number from 1 to %(max)d.", max=max_per_page)]
    if errors:
        raise FilterError(errors)
    return Filters(
        status, type_name, overdue, page, per_page, restricted == "true", q, assignee, due
    )


def search_filters(args: Mapping[str, str], errors: dict) -> tuple[str, str, str]:
    """The search text, the assignee and the `due` filter; their faults go into `errors`."""
    q = args.get("q", "").strip()
    if len(q) > MAX_SEARCH:
        errors["q"] = [_("Use at most %(max)d characters.", max=MAX_SEARCH)]
    assignee = args.get("assignee", "").strip().lower()  # an address nobody has: no case
    if len(assignee) > MAX_SEARCH:
        errors["assignee"] = [_("Use at most %(max)d characters.", max=MAX_SEARCH)]
    for name in ("q", "assignee"):  # as sent: trimming would hide a tab or a line break
        if forbidden_characters(args.get(name, ""), multiline=False):
            errors[name] = [str(ONE_LINE)]
    due = args.get("due", "")
    if due not in ("", DUE_WEEK):
        errors["due"] = [one_of([DUE_WEEK])]
    return q, assignee, due


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


def due_within_condition(today: date, days: int):
    """Running clock and a deadline from today to `days` local days from now, inclusive."""
    _country, tz = controller_settings()
    start = datetime.combine(today, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=days + 1), time(0), tzinfo=ZoneInfo(tz))
    due = effective_due()
    return and_(DataRequest.status.in_(CLOCK_RUNNING), due >= start, due < end.astimezone(UTC))


def text_condition(text: str):
    """The text in the reference, the email or the name, whatever the case."""
    folded = text.lower()
    # SQLite's LIKE ignores the case of ASCII letters already, and its lower() folds no
    # more than that: without lower(), a search reads the table almost twice as fast
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    name = DataRequest.name if sqlite else func.lower(DataRequest.name)
    return or_(
        DataRequest.ref.contains(text.upper(), autoescape=True),
        DataRequest.email.contains(folded, autoescape=True),
        name.contains(folded, autoescape=True),
    )


def assignee_condition(assignee: str, me: int | None):
    if assignee == MINE:
        # none for a caller without an account (`== None` would mean "unassigned")
        return DataRequest.assignee_id == me if me is not None else false()
    if assignee == NOBODY:
        return DataRequest.assignee_id.is_(None)
    staff_id = select(StaffUser.id).where(StaffUser.email == assignee).scalar_subquery()
    return DataRequest.assignee_id == staff_id


def selection(filters: Filters, today: date, me: int | None):
    """The query for every filter but `status`: the base of the list and of its counts."""
    query = select(DataRequest)
    if filters.restricted:
        query = query.where(
            DataRequest.restricted_at.is_not(None), DataRequest.restriction_lifted_at.is_(None)
        )
    if filters.type:
        query = query.where(DataRequest.type == filters.type)
    if filters.overdue is not None:
        condition = overdue_condition(today)
        query = query.where(condition if filters.overdue else not_(condition))
    if filters.due == DUE_WEEK:
        query = query.where(due_within_condition(today, WEEK_DAYS))
    if filters.q:
        query = query.where(text_condition(filters.q))
    if filters.assignee:
        query = query.where(assignee_condition(filters.assignee, me))
    return query


def chosen_statuses(filters: Filters) -> tuple[str, ...]:
    """The statuses the `status` filter keeps (every one when it keeps them all)."""
    if filters.status == NOT_FINAL:
        # a restriction stays in force on a closed request
        return tuple(RequestStatus) if filters.restricted else NOT_CLOSED
    return tuple(RequestStatus) if filters.status == ALL else (filters.status,)


def with_status(query, filters: Filters):
    statuses = chosen_statuses(filters)
    if len(statuses) == len(RequestStatus):
        return query
    # "IN" the statuses kept rather than "NOT IN" the others: an index serves it
    return query.where(DataRequest.status.in_(statuses))


def search(
    filters: Filters,
    now: datetime | None = None,
    *,
    me: int | None = None,
    counts: dict[str, int] | None = None,
) -> Page:
    """One page of the requests the filters select, the earliest deadline first.

    `me` is the staff account asking (the `mine` assignee filter). With the
    `counts` of `status_counts` for the same filters, the total is their sum
    instead of one more count by the database (a search reads every row).
    """
    query = with_status(selection(filters, local_today(now), me), filters)
    if counts is None:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    else:
        total = sum(counts[str(status)] for status in chosen_statuses(filters))
    ordered = query.order_by(effective_due(), DataRequest.id)
    offset = (filters.page - 1) * filters.per_page
    page = ordered.options(selectinload(DataRequest.assignee))
    items = list(db.session.scalars(page.limit(filters.per_page).offset(offset)))
    return Page(items, total, filters.page, filters.per_page)


def status_counts(
    filters: Filters, now: datetime | None = None, *, me: int | None = None
) -> dict[str, int]:
    """How many requests each status has among those every filter but `status` selects."""
    query = selection(filters, local_today(now), me)
    statuses = [str(status) for status in RequestStatus]
    if filters.q:
        # A search reads every row: one sum per status in that one pass. GROUP BY would
        # walk the status index and fetch each row from there, several times slower.
        sums = [
            func.coalesce(func.sum(case((DataRequest.status == name, 1), else_=0)), 0)
            for name in statuses
        ]
        row = db.session.execute(query.with_only_columns(*sums)).one()
        return dict(zip(statuses, row, strict=True))
    grouped = query.with_only_columns(DataRequest.status, func.count()).group_by(DataRequest.status)
    counts = dict(db.session.execute(grouped).all())
    return {name: counts.get(name, 0) for name in statuses}


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
