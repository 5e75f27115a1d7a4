"""Tests for the legal clock (dsr.deadlines).

Expected dates were checked against a calendar and the ``holidays`` package.
"""

import calendar
import datetime as dt

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsr.deadlines import (
    due_date,
    end_of_day_utc,
    is_working_day,
    local_date,
    next_working_day,
    paused_days,
    period_end,
)

D = dt.date
UTC = dt.UTC


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


# --- period_end: Regulation 1182/71 Art. 3(2)(c) ---------------------------


@pytest.mark.parametrize(
    ("received", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),  # no 31 Feb -> last day
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
        (D(2025, 1, 29), 1, D(2025, 2, 28)),
        (D(2024, 1, 29), 1, D(2024, 2, 29)),
        (D(2025, 4, 30), 1, D(2025, 5, 30)),  # same date, not the last day
        (D(2025, 3, 31), 1, D(2025, 4, 30)),
        (D(2025, 2, 28), 1, D(2025, 3, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),  # year boundary
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2025, 12, 31), 3, D(2026, 3, 31)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
    ],
)
def test_period_end(received, months, expected):
    assert period_end(received, months) == expected


@pytest.mark.parametrize("months", [0, -1])
def test_period_end_rejects_non_positive_months(months):
    with pytest.raises(ValueError):
        period_end(D(2025, 1, 1), months)


# --- due_date: working-day rule, Art. 3(4) ----------------------------------


@pytest.mark.parametrize(
    ("received", "raw_end", "expected"),
    [
        # month ends
        (D(2025, 1, 31), D(2025, 2, 28), D(2025, 2, 28)),  # Fri, stays
        (D(2024, 1, 31), D(2024, 2, 29), D(2024, 2, 29)),  # Thu, leap year
        (D(2025, 4, 30), D(2025, 5, 30), D(2025, 5, 30)),  # Fri
        (D(2025, 3, 31), D(2025, 4, 30), D(2025, 4, 30)),  # Wed
        # weekends
        (D(2025, 2, 15), D(2025, 3, 15), D(2025, 3, 17)),  # Sat -> Mon
        (D(2025, 2, 16), D(2025, 3, 16), D(2025, 3, 17)),  # Sun -> Mon
        # French public holidays
        (D(2025, 6, 14), D(2025, 7, 14), D(2025, 7, 15)),  # Bastille Day, Mon
        (D(2025, 4, 1), D(2025, 5, 1), D(2025, 5, 2)),  # Labour Day, Thu
        (D(2025, 4, 8), D(2025, 5, 8), D(2025, 5, 9)),  # Victory Day, Thu
        (D(2025, 11, 25), D(2025, 12, 25), D(2025, 12, 26)),  # Christmas, Thu
        (D(2026, 10, 1), D(2026, 11, 1), D(2026, 11, 2)),  # All Saints' on a Sunday
        (D(2026, 3, 6), D(2026, 4, 6), D(2026, 4, 7)),  # Easter Monday 2026
        (D(2025, 7, 15), D(2025, 8, 15), D(2025, 8, 18)),  # Assumption, Fri -> Mon
        # Sat 30 Dec, Sun 31 Dec, New Year's Day Mon 1 Jan -> Tue 2 Jan
        (D(2028, 11, 30), D(2028, 12, 30), D(2029, 1, 2)),
    ],
)
def test_due_date_one_month_fr(received, raw_end, expected):
    assert period_end(received) == raw_end
    assert due_date(received) == expected
    assert due_date(received, months=1, country="FR") == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 2, 28), D(2025, 2, 28)),  # working day is returned as is
        (D(2025, 3, 15), D(2025, 3, 17)),
        (D(2028, 12, 31), D(2029, 1, 2)),  # run spanning into the next year
        (D(2025, 12, 31), D(2025, 12, 31)),
    ],
)
def test_next_working_day(day, expected):
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("received", "country", "expected"),
    [
        # 3 Oct 2025 (Fri) is German Unity Day: a holiday in DE only
        (D(2025, 9, 3), "DE", D(2025, 10, 6)),
        (D(2025, 9, 3), "FR", D(2025, 10, 3)),
        # 26 Dec 2025 (Fri) is a holiday in DE, not in (metropolitan) FR
        (D(2025, 11, 25), "DE", D(2025, 12, 29)),
        (D(2025, 11, 25), "FR", D(2025, 12, 26)),
        # 14 Jul is French only
        (D(2025, 6, 14), "DE", D(2025, 7, 14)),
    ],
)
def test_country(received, country, expected):
    assert due_date(received, country=country) == expected


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (D(2025, 1, 31), D(2025, 4, 30)),  # Wed
        (D(2024, 11, 30), D(2025, 2, 28)),  # Fri
        (D(2025, 11, 30), D(2026, 3, 2)),  # 28 Feb 2026 is a Saturday
        (D(2025, 2, 1), D(2025, 5, 2)),  # 1 May 2025 holiday
        (D(2026, 1, 6), D(2026, 4, 7)),  # Easter Monday 2026
        (D(2024, 12, 31), D(2025, 3, 31)),  # Mon
    ],
)
def test_extension_three_months(received, expected):
    assert due_date(received, months=3) == expected


def test_months_two_is_allowed():
    assert due_date(D(2025, 1, 31), months=2) == D(2025, 3, 31)  # Monday


@pytest.mark.parametrize("months", [0, -1, 4, 12])
def test_invalid_months_rejected(months):
    with pytest.raises(ValueError):
        due_date(D(2025, 1, 15), months=months)


def test_negative_paused_days_rejected():
    with pytest.raises(ValueError):
        due_date(D(2025, 1, 15), paused_days=-1)


# --- paused days -------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "paused", "expected"),
    [
        (D(2025, 1, 31), 0, D(2025, 2, 28)),
        (D(2025, 1, 31), 1, D(2025, 3, 3)),  # Sat 1 Mar -> Mon 3 Mar
        (D(2025, 1, 31), 4, D(2025, 3, 4)),  # Tue
        (D(2025, 1, 15), 10, D(2025, 2, 25)),  # Tue
        # pause pushes the end onto 14 Jul 2025 (holiday) -> 15 Jul
        (D(2025, 6, 4), 10, D(2025, 7, 15)),
    ],
)
def test_paused_days_push_the_end(received, paused, expected):
    assert due_date(received, paused_days=paused) == expected


def test_pause_applies_before_working_day_rule():
    # Raw end Sat 15 Mar 2025; +2 days = Mon 17 Mar (not Mon 17 + 2 = Wed 19).
    assert due_date(D(2025, 2, 15), paused_days=2) == D(2025, 3, 17)


@pytest.mark.parametrize(
    ("pauses", "until", "expected"),
    [
        ([], utc(2025, 1, 20), 0),
        # same Paris day -> 0
        ([(utc(2025, 1, 15, 9), utc(2025, 1, 15, 18))], utc(2025, 2, 1), 0),
        # 22:30Z-23:30Z in winter = 23:30-00:30 Paris: crosses midnight -> 1
        ([(utc(2025, 1, 15, 22, 30), utc(2025, 1, 15, 23, 30))], utc(2025, 2, 1), 1),
        # same in summer (UTC+2): 21:30Z-22:30Z crosses Paris midnight
        ([(utc(2025, 7, 15, 21, 30), utc(2025, 7, 15, 22, 30))], utc(2025, 8, 1), 1),
        # 21:30Z-22:30Z in winter stays on the same Paris day
        ([(utc(2025, 1, 15, 21, 30), utc(2025, 1, 15, 22, 30))], utc(2025, 2, 1), 0),
        # naive datetimes are UTC
        (
            [(dt.datetime(2025, 1, 15, 22, 30), dt.datetime(2025, 1, 15, 23, 30))],
            utc(2025, 2, 1),
            1,
        ),
        # several pauses add up
        (
            [
                (utc(2025, 1, 10, 8), utc(2025, 1, 13, 8)),
                (utc(2025, 1, 20, 8), utc(2025, 1, 22, 8)),
            ],
            utc(2025, 2, 1),
            5,
        ),
        # a running pause counts until `until`
        ([(utc(2025, 1, 10, 8), None)], utc(2025, 1, 17, 8), 7),
        ([(utc(2025, 1, 10, 8), None)], utc(2025, 1, 10, 9), 0),
        ([(utc(2025, 1, 10, 8), None)], utc(2025, 1, 5, 8), 0),
    ],
)
def test_paused_days(pauses, until, expected):
    assert paused_days(pauses, until) == expected


def test_paused_days_other_time_zone():
    pause = [(utc(2025, 1, 15, 22, 30), utc(2025, 1, 15, 23, 30))]
    assert paused_days(pause, utc(2025, 2, 1), tz="UTC") == 0


def test_paused_days_accepts_a_generator():
    pauses = ((utc(2025, 1, d, 8), utc(2025, 1, d + 1, 8)) for d in (3, 6))
    assert paused_days(pauses, utc(2025, 2, 1)) == 2


def test_pause_ending_before_start_rejected():
    with pytest.raises(ValueError):
        paused_days([(utc(2025, 1, 15, 12), utc(2025, 1, 15, 11))], utc(2025, 2, 1))


# --- time zones ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 1, 15), utc(2025, 1, 15, 22, 59, 59)),  # winter, UTC+1
        (D(2025, 7, 15), utc(2025, 7, 15, 21, 59, 59)),  # summer, UTC+2
        (D(2025, 3, 30), utc(2025, 3, 30, 21, 59, 59)),  # DST starts that morning
        (D(2025, 10, 26), utc(2025, 10, 26, 22, 59, 59)),  # DST ends that morning
    ],
)
def test_end_of_day_utc(day, expected):
    result = end_of_day_utc(day)
    assert result == expected
    assert result.utcoffset() == dt.timedelta(0)
    assert local_date(result) == day


def test_end_of_day_utc_other_tz():
    assert end_of_day_utc(D(2025, 1, 15), tz="UTC") == utc(2025, 1, 15, 23, 59, 59)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2025, 1, 15, 22, 59), D(2025, 1, 15)),
        (utc(2025, 1, 15, 23, 0), D(2025, 1, 16)),
        (utc(2025, 7, 15, 22, 0), D(2025, 7, 16)),
        (dt.datetime(2025, 1, 15, 23, 30), D(2025, 1, 16)),  # naive = UTC
        (
            dt.datetime(2025, 1, 15, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            D(2025, 1, 16),
        ),
    ],
)
def test_local_date(instant, expected):
    assert local_date(instant) == expected


# --- properties ------------------------------------------------------------------

dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31))
month_counts = st.integers(min_value=1, max_value=3)
props = settings(max_examples=300, database=None, deadline=None)


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


@props
@given(received=dates, months=month_counts)
def test_property_period_end(received, months):
    end = period_end(received, months)
    assert (end.year, end.month) == _add_months(received, months)
    assert end.day <= calendar.monthrange(end.year, end.month)[1]
    assert end.day == min(received.day, calendar.monthrange(end.year, end.month)[1])


@props
@given(received=dates, months=month_counts)
def test_property_due_date(received, months):
    end = period_end(received, months)
    result = due_date(received, months)
    assert result > received
    assert result >= received + dt.timedelta(days=28 * months)
    assert result.weekday() < 5
    assert result not in holidays.country_holidays("FR", years=result.year)
    assert is_working_day(result)
    assert dt.timedelta(0) <= result - end < dt.timedelta(days=7)
    # every day between the raw end and the result is a non-working day
    day = end
    while day < result:
        assert not is_working_day(day)
        day += dt.timedelta(days=1)


@props
@given(a=dates, b=dates, months=month_counts)
def test_property_monotonic_in_received(a, b, months):
    a, b = sorted((a, b))
    assert due_date(a, months) <= due_date(b, months)


@props
@given(received=dates)
def test_property_extension_not_earlier(received):
    one = due_date(received, months=1)
    assert due_date(received, months=2) >= one
    assert due_date(received, months=3) >= due_date(received, months=2)


@props
@given(received=dates, months=month_counts, paused=st.integers(min_value=0, max_value=60))
def test_property_pause_never_shortens(received, months, paused):
    result = due_date(received, months, paused_days=paused)
    assert result >= due_date(received, months)
    assert result >= period_end(received, months) + dt.timedelta(days=paused)
