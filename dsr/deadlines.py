"""The legal clock for data-subject requests.

GDPR Art. 12(3) gives the controller one month from receipt of a request to
answer, extendable by two further months (three in total) where necessary.
How such periods are computed is laid down by Regulation (EEC, Euratom)
No 1182/71 of 3 June 1971 determining the rules applicable to periods, dates
and time limits:

* Art. 3(2)(c): a period expressed in months ends with the expiry of the last
  hour of the day of the last month which is the same date as the day from
  which the period runs; if that date does not exist in the last month, the
  period ends on the last day of that month.
* Art. 3(4): if the last day of a period is a public holiday, Saturday or
  Sunday, the period ends with the expiry of the last hour of the following
  working day.

Everything here is a pure function; due instants are stored in UTC.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DEFAULT_COUNTRY",
    "DEFAULT_TZ",
    "MAX_MONTHS",
    "due_date",
    "extended_due_date",
    "end_of_day_utc",
    "is_working_day",
    "local_date",
    "next_working_day",
    "paused_days",
    "period_end",
]

DEFAULT_COUNTRY = "FR"
DEFAULT_TZ = "Europe/Paris"
#: GDPR Art. 12(3): one month, extendable by two further months.
MAX_MONTHS = 3

_UTC = dt.UTC


def period_end(received: dt.date, months: int = 1) -> dt.date:
    """Return the last day of a period of ``months`` months starting on ``received``.

    Regulation 1182/71 Art. 3(2)(c): same date of the later month, or the
    last day of that month when that date does not exist
    (31 Jan + 1 month -> 28/29 Feb; 29 Feb 2024 + 12 months -> 28 Feb 2025).
    """
    if months < 1:
        raise ValueError(f"a period must last at least one month, got {months}")
    index = received.year * 12 + (received.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(received.day, last))


@lru_cache(maxsize=1024)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    """Public holidays of ``country`` for one ``year``, built once and cached."""
    return holidays.country_holidays(country, years=year, expand=False)


def is_working_day(day: dt.date, country: str = DEFAULT_COUNTRY) -> bool:
    """True unless ``day`` is a Saturday, a Sunday or a public holiday of ``country``."""
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def next_working_day(day: dt.date, country: str = DEFAULT_COUNTRY) -> dt.date:
    """Return ``day`` if it is a working day, else the first working day after it.

    Regulation 1182/71 Art. 3(4). Holidays are looked up per calendar year, so
    runs crossing New Year (e.g. 31 Dec 2028 -> 2 Jan 2029) are handled.
    """
    while not is_working_day(day, country):
        day += dt.timedelta(days=1)
    return day


def due_date(
    received: dt.date,
    months: int = 1,
    country: str = DEFAULT_COUNTRY,
    paused_days: int = 0,
) -> dt.date:
    """Return the last day on which a request received on ``received`` may be answered.

    ``months`` is 1 for the ordinary deadline and up to 3 for the extended one
    (one month plus up to two more, GDPR Art. 12(3)); anything else raises
    ``ValueError``. ``paused_days`` are days during which the clock was
    stopped while awaiting the subject's proof of identity (GDPR Art. 12(6));
    they push the end of the period *before* the working-day rule of
    Regulation 1182/71 Art. 3(4) is applied.
    """
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}, got {months}")
    if paused_days < 0:
        raise ValueError(f"paused_days must not be negative, got {paused_days}")
    end = period_end(received, months) + dt.timedelta(days=paused_days)
    return next_working_day(end, country)


def extended_due_date(due: dt.date, months: int, country: str = DEFAULT_COUNTRY) -> dt.date:
    """Return the last day of an extension by ``months`` further months of a deadline ``due``.

    GDPR Art. 12(3) allows up to two further months; the further period runs from
    the first deadline by the same month rule (Regulation 1182/71 Art. 3(2)(c)),
    then ends on the next working day (Art. 3(4)). Anything but 1 or 2 months
    raises ``ValueError``.
    """
    if not 1 <= months <= MAX_MONTHS - 1:
        raise ValueError(f"an extension lasts 1 to {MAX_MONTHS - 1} months, got {months}")
    return next_working_day(period_end(due, months), country)


def end_of_day_utc(day: dt.date, tz: str = DEFAULT_TZ) -> dt.datetime:
    """Return 23:59:59 of ``day`` in time zone ``tz`` as an aware UTC datetime.

    This is how due dates are stored.
    """
    local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ZoneInfo(tz))
    return local.astimezone(_UTC)


def _as_utc(instant: dt.datetime) -> dt.datetime:
    """Return ``instant`` as an aware datetime; a naive one is taken as UTC."""
    return instant.replace(tzinfo=_UTC) if instant.tzinfo is None else instant


def local_date(instant: dt.datetime, tz: str = DEFAULT_TZ) -> dt.date:
    """Return the calendar date of ``instant`` in ``tz``; a naive instant is taken as UTC."""
    return _as_utc(instant).astimezone(ZoneInfo(tz)).date()


def paused_days(
    pauses: Iterable[tuple[dt.datetime, dt.datetime | None]],
    until: dt.datetime,
    tz: str = DEFAULT_TZ,
) -> int:
    """Count the whole calendar days the clock was stopped, in the controller's time zone.

    ``pauses`` holds ``(started_at, ended_at)`` pairs of aware or naive-UTC
    datetimes; a pause still running (``ended_at`` is ``None``) runs until
    ``until``. Each pause counts the number of local midnights it crosses,
    ``local_date(end) - local_date(start)``: a pause started and ended on the
    same day counts 0. A running pause that starts after ``until`` counts 0;
    a pause that ends before it starts raises ``ValueError``. Pauses are
    assumed not to overlap.
    """
    total = 0
    for started_at, ended_at in pauses:
        if ended_at is not None and _as_utc(ended_at) < _as_utc(started_at):
            raise ValueError(f"pause ends ({ended_at}) before it starts ({started_at})")
        end = until if ended_at is None else ended_at
        total += max(0, (local_date(end, tz) - local_date(started_at, tz)).days)
    return total
