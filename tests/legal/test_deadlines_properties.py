"""Property tests of the deadline rules (hypothesis).

Holidays are read straight from the ``holidays`` package and month arithmetic is re-done here,
so the properties do not rely on the helpers under test.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import deadlines as dl

SUBDIVS = [None, "57", "6AE", "971", "972", "973", "974", "976", "PM"]
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2045, 12, 31))
subdivs = st.sampled_from(SUBDIVS)


@cache
def _holidays(subdiv: str | None) -> holidays.HolidayBase:
    return holidays.France(subdiv=subdiv)


def non_working(d: date, subdiv: str | None) -> bool:
    return d.weekday() >= 5 or d in _holidays(subdiv)


def plus_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def franc_raw(event: date, months: int) -> date:
    """Earlier of LEGAL.md §4.1's two formulations, before weekend/holiday moves."""
    day_after = plus_months(event + timedelta(days=1), months)
    quantieme = plus_months(event, months) + timedelta(days=1)
    return min(day_after, quantieme)


def assert_moved_correctly(result: dl.Deadline, raw: date, subdiv: str | None) -> None:
    assert not non_working(result.deadline, subdiv)
    assert result.deadline >= raw
    # Only non-working days were skipped, and never more than a long weekend.
    day = raw
    while day < result.deadline:
        assert non_working(day, subdiv)
        day += timedelta(days=1)
    assert (result.deadline - raw).days <= 5


@settings(max_examples=300, deadline=None)
@given(notified=dates, subdiv=subdivs)
def test_general_never_on_weekend_or_holiday(notified: date, subdiv: str | None) -> None:
    result = dl.general(notified, subdiv=subdiv)
    assert result.deadline > notified
    assert_moved_correctly(result, franc_raw(notified, 2), subdiv)


@settings(max_examples=200, deadline=None)
@given(notified=dates, subdiv=subdivs, distance=st.sampled_from(["outre-mer", "etranger"]))
def test_distance_adds_months(notified: date, subdiv: str | None, distance: str) -> None:
    extra = {"outre-mer": 1, "etranger": 2}[distance]
    result = dl.general(notified, subdiv=subdiv, distance=distance)
    assert_moved_correctly(result, franc_raw(notified, 2 + extra), subdiv)


def rolled(d: date, subdiv: str | None = None) -> date:
    while non_working(d, subdiv):
        d += timedelta(days=1)
    return d


@settings(max_examples=300, deadline=None)
@given(notified=dates)
def test_never_later_than_either_formulation(notified: date) -> None:
    """LEGAL.md §4.1: the estimate is not later than either way of counting the months."""
    day_after = rolled(plus_months(notified + timedelta(days=1), 2))
    quantieme = rolled(plus_months(notified, 2) + timedelta(days=1))
    result = dl.general(notified).deadline
    assert result <= day_after and result <= quantieme
    assert result in (day_after, quantieme)
    # Away from month ends (day 1 to 27) both formulations agree.
    if notified.day <= 27:
        assert day_after == quantieme


@settings(max_examples=200, deadline=None)
@given(first=dates, second=dates)
def test_general_is_monotonic(first: date, second: date) -> None:
    early, late = sorted((first, second))
    assert dl.general(early).deadline <= dl.general(late).deadline


@settings(max_examples=200, deadline=None)
@given(notified=dates, offset=st.integers(min_value=0, max_value=120), subdiv=subdivs)
def test_recours_gracieux(notified: date, offset: int, subdiv: str | None) -> None:
    base = dl.general(notified, subdiv=subdiv)
    recours = notified + timedelta(days=offset)
    result = dl.general(notified, recours_gracieux=recours, subdiv=subdiv)
    assert not non_working(result.deadline, subdiv)
    assert result.deadline >= base.deadline
    if recours <= base.deadline:
        # New two months from the implicit rejection born two months after the recours.
        born = plus_months(recours, 2)
        assert_moved_correctly(result, franc_raw(born, 2), subdiv)
    else:
        assert result.deadline == base.deadline


@settings(max_examples=200, deadline=None)
@given(notified=st.dates(min_value=date(2025, 11, 27), max_value=date(2040, 1, 1)),
       offset=st.integers(min_value=0, max_value=60))
def test_urbanisme_recours_gracieux_no_longer_extends(notified: date, offset: int) -> None:
    recours = notified + timedelta(days=offset)
    plain = dl.general(notified, urbanisme=True)
    assert dl.general(notified, urbanisme=True, recours_gracieux=recours).deadline == \
        plain.deadline
    display = dl.urbanisme_display(notified)
    assert dl.urbanisme_display(notified, recours_gracieux=recours).deadline == display.deadline


@settings(max_examples=200, deadline=None)
@given(received=dates, subdiv=subdivs)
def test_implicit_rejection(received: date, subdiv: str | None) -> None:
    result = dl.implicit_rejection(received, subdiv=subdiv)
    assert result.deadline > received
    assert_moved_correctly(result, franc_raw(plus_months(received, 2), 2), subdiv)


@settings(max_examples=200, deadline=None)
@given(displayed=dates, subdiv=subdivs)
def test_urbanisme_display(displayed: date, subdiv: str | None) -> None:
    result = dl.urbanisme_display(displayed, subdiv=subdiv)
    assert_moved_correctly(result, franc_raw(displayed, 2), subdiv)


@settings(max_examples=200, deadline=None)
@given(published=dates, subdiv=subdivs)
def test_environment(published: date, subdiv: str | None) -> None:
    result = dl.environment_third_party(published, subdiv=subdiv)
    months = 2 if published >= date(2024, 9, 1) else 4
    assert_moved_correctly(result, franc_raw(published, months), subdiv)


@settings(max_examples=200, deadline=None)
@given(notified=dates, hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_48_hours_is_exactly_48_hours(notified: date, hour: int, minute: int) -> None:
    result = dl.oqtf_48_hours(notified, at_time=time(hour, minute))
    start = datetime.combine(notified, time(hour, minute))
    assert result.end_datetime() - start == timedelta(hours=48)
    assert result.deadline >= notified


@settings(max_examples=200, deadline=None)
@given(day=dates)
def test_fixed_day_counts(day: date) -> None:
    assert (dl.oqtf_7_days(day).deadline - day).days == 7
    election = dl.election(day)
    assert (election.deadline - day).days == 5 and election.time == "18:00"
    assert (dl.procurement_standstill(day).deadline - day).days == 11
    assert (dl.procurement_standstill(day, electronic=False).deadline - day).days == 16
    assert (dl.procurement_contractual(day).deadline - day).days == 31
    assert dl.czabaj(day).deadline == plus_months(day, 12)
    assert dl.oqtf_month(day).deadline == plus_months(day, 1)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(dl.KINDS)), start=dates)
def test_no_deadline_precedes_its_start(kind: str, start: date) -> None:
    result = dl.compute(kind, start)
    assert result.deadline >= start
    if kind == "before_effect":
        # The one kind whose start is its end: the measure applies at 00:00 that day.
        assert result.end_datetime() == datetime.combine(start, time.min)
    else:
        assert result.end_datetime() > datetime.combine(start, time.min)
    assert result.kind == kind and result.start == start
