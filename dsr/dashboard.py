"""The privacy team's figures: open cases, overdue ones, answers on time, time to answer,
and the requests received and answered month by month.

A request is *answered* once it is `completed` or `rejected` (a refusal is an
answer, Art. 12(4)); its answer date is when it closed, and it was on time if
that was no later than the deadline in force (extended, if it was). The
figures over time cover the chart's twelve months: the current month, local
time, and the eleven before it. Days to answer are whole days (24 hours)
from receipt to answer, pauses included.

Every figure is counted by the database (an index on the receipt, and one on
the status and closing date that holds every column the answers' figures
read), so the page stays quick with a large caseload.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

import workflows
from dsr import caseload
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.operations import controller_settings
from dsr.status import RequestStatus

S = RequestStatus
#: the outcomes that answer the person
ANSWERED = (S.COMPLETED, S.REJECTED)
#: the statuses of a case still open, in the order the dashboard shows them
OPEN_STATUSES = tuple(s for s in RequestStatus if not s.is_final)
MONTHS = 12


class elapsed_days(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """Whole days from the first timestamp to the second, in SQL (SQLite or PostgreSQL)."""

    type = Integer()
    inherit_cache = True


@compiles(elapsed_days, "sqlite")
def _elapsed_days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    # whole seconds in integer arithmetic: julianday()'s floating point could make 10 days 9.99
    seconds = "CAST(strftime('%s', {}) AS INTEGER)"
    return f"({seconds.format(end)} - {seconds.format(start)}) / 86400"


@compiles(elapsed_days, "postgresql")
def _elapsed_days_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({end}) - ({start})) / 86400) AS INTEGER)"


@dataclass(frozen=True)
class Month:
    #: its first day, local time
    start: date
    received: int
    answered: int


@dataclass(frozen=True)
class Figures:
    #: type -> status -> count, for the open statuses
    open_cases: dict[str, dict[str, int]]
    overdue: int
    #: the first day of the chart's first month: the start of the figures over time
    since: date
    answered: int
    answered_on_time: int
    #: type -> median whole days from receipt to answer (None: nothing answered)
    median_days: dict[str, float | None]
    months: list[Month]

    @property
    def on_time_percent(self) -> float | None:
        return 100 * self.answered_on_time / self.answered if self.answered else None

    @property
    def open_total(self) -> int:
        return sum(sum(row.values()) for row in self.open_cases.values())


def month_starts(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months up to today's, and of the month after: count + 1."""
    index = today.year * 12 + today.month - 1 - (count - 1)
    return [date((index + n) // 12, (index + n) % 12 + 1, 1) for n in range(count + 1)]


def local_midnight_utc(day: date) -> datetime:
    _country, tz = controller_settings()
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def open_cases() -> dict[str, dict[str, int]]:
    query = (
        select(DataRequest.type, DataRequest.status, func.count())
        .where(DataRequest.status.in_(OPEN_STATUSES))
        .group_by(DataRequest.type, DataRequest.status)
    )
    table = {name: {str(s): 0 for s in OPEN_STATUSES} for name in workflows.names()}
    for type_name, status, count in db.session.execute(query):
        table.setdefault(type_name, {str(s): 0 for s in OPEN_STATUSES})[status] = count
    return table


def per_month(column, bounds: list[datetime], *conditions) -> list[int]:
    """How many rows have `column` in each interval [bounds[i], bounds[i + 1])."""
    bucket = case(
        *((column < bound, n) for n, bound in enumerate(bounds[1:-1])), else_=len(bounds) - 2
    )
    query = (
        select(bucket, func.count())
        .where(column >= bounds[0], column < bounds[-1], *conditions)
        .group_by(bucket)
    )
    counts = dict(db.session.execute(query).all())
    return [counts.get(n, 0) for n in range(len(bounds) - 1)]


def answered_between(start: datetime, end: datetime):
    return and_(
        DataRequest.status.in_(ANSWERED),
        DataRequest.closed_at >= start,
        DataRequest.closed_at < end,
    )


@dataclass(frozen=True)
class Answers:
    """The requests answered over a span: how many, how many on time, and per type the
    number of whole days each took (days -> how many)."""

    total: int
    on_time: int
    days: dict[str, Counter]


def answers(start: datetime, end: datetime) -> Answers:
    """The requests answered in [start, end), read in one pass (a covering index)."""
    days = elapsed_days(DataRequest.received_at, DataRequest.closed_at)
    on_time = case((DataRequest.closed_at <= caseload.effective_due(), 1), else_=0)
    query = (
        select(DataRequest.type, days, on_time, func.count())
        .where(answered_between(start, end))
        .group_by(DataRequest.type, days, on_time)
    )
    total = in_time = 0
    histograms: dict[str, Counter] = {name: Counter() for name in workflows.names()}
    for type_name, elapsed, punctual, count in db.session.execute(query):
        histograms.setdefault(type_name, Counter())[elapsed] += count
        total += count
        in_time += count if punctual else 0
    return Answers(total, in_time, histograms)


def histogram_median(counts: Counter) -> float | None:
    """The median of the values `counts` holds (value -> how many times), as
    `statistics.median` gives it: the mean of the two middle values when their number is even."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen, low = (total - 1) // 2, 0, None
    for value in sorted(counts):
        seen += counts[value]
        if low is None and seen > middle:
            low = value
        if seen > total // 2:
            return (low + value) / 2
    raise AssertionError("unreachable: the counts add up to the total")


def figures(now: datetime | None = None) -> Figures:
    """Every figure of the dashboard, as of `now`."""
    now = now or utcnow()
    today = caseload.local_today(now)
    starts = month_starts(today)
    bounds = [local_midnight_utc(day) for day in starts]
    overdue = select(func.count()).where(caseload.overdue_condition(today))
    answered = answers(bounds[0], bounds[-1])
    received = per_month(DataRequest.received_at, bounds)
    closed = per_month(DataRequest.closed_at, bounds, DataRequest.status.in_(ANSWERED))
    return Figures(
        open_cases=open_cases(),
        overdue=db.session.scalar(overdue),
        since=starts[0],
        answered=answered.total,
        answered_on_time=answered.on_time,
        median_days={name: histogram_median(days) for name, days in answered.days.items()},
        months=[Month(*row) for row in zip(starts[:-1], received, closed, strict=True)],
    )
