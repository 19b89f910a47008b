"""permanence/costs.py: the cost per live session and per month, from a real X store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from permanence import costs
from permanence.schedule import parse_schedule
from permanence.x_costs import CostMeter
from permanence.x_store import Store

SCHEDULE = parse_schedule({
    "timezone": "Europe/Paris",
    "recurring": [{"every": "month", "week": "first", "weekday": "tuesday",
                   "start": "12:00", "end": "13:00"}],
    "extra": [{"date": "2026-12-15", "start": "18:00", "end": "19:00"}],
})
UTC = timezone.utc
# 2026-12-01 is the first Tuesday: 12:00-13:00 Paris is 11:00-12:00 UTC.
FIRST = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
EXTRA = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)


def test_month_bounds_follow_the_schedules_time_zone() -> None:
    label, start, end = costs.month_bounds(None, SCHEDULE, datetime(2026, 11, 30, 23, 30,
                                                                    tzinfo=UTC))
    assert label == "2026-12"  # already December in Paris
    assert start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert costs.month_bounds("2027-12", SCHEDULE, FIRST)[2] == datetime(
        2027, 12, 31, 23, 0, tzinfo=UTC)
    for bad in ("2026-13", "2026-1", "26-12", "2026-12-01", "1999-01"):
        with pytest.raises(ValueError):
            costs.month_bounds(bad, SCHEDULE, FIRST)


def test_the_latest_session_is_the_running_one_else_the_last() -> None:
    during = costs.latest_session(SCHEDULE, FIRST + timedelta(minutes=30))
    assert during is not None and during.start == FIRST
    after = costs.latest_session(SCHEDULE, FIRST + timedelta(days=3))
    assert after is not None and after.start == FIRST
    starting = parse_schedule({"timezone": "Europe/Paris", "recurring": [
        {"every": "week", "weekday": "tuesday", "start": "12:00", "end": "13:00",
         "from": "2026-12-01"}]})
    assert costs.latest_session(starting, FIRST - timedelta(minutes=1)) is None
    assert costs.latest_session(starting, FIRST + timedelta(days=7 * 10)).start == (
        FIRST + timedelta(days=7 * 10))  # a session starts at that very moment: running


@pytest.fixture
def x_store(fresh_database_url: str):
    store = Store.create(fresh_database_url)
    costs.register(costs.X, store.cost_totals)
    yield store
    costs.unregister(costs.X, store.cost_totals)
    store.close()


def test_the_report_splits_the_month_into_sessions(x_store: Store) -> None:
    meter = CostMeter.from_file()
    # In the first session: 3 DMs sent, 2 received (one of them delivered twice that day).
    x_store.costs_add(meter.call("dm_sent") * 3, now=FIRST + timedelta(minutes=5))
    x_store.costs_add(meter.resources("dm_received", ["1", "2"], FIRST), now=FIRST)
    x_store.costs_add(meter.resources("dm_received", ["2"], FIRST),
                      now=FIRST + timedelta(minutes=9))
    # Between sessions: a summoned reply; in the extra session: one DM; last month: one.
    x_store.costs_add(meter.call("post_created_summoned"), now=FIRST + timedelta(days=2))
    x_store.costs_add(meter.call("dm_sent"), now=EXTRA + timedelta(minutes=59))
    x_store.costs_add(meter.call("dm_sent"), now=FIRST - timedelta(days=2))

    report = costs.report(SCHEDULE, None, now=EXTRA + timedelta(minutes=30))
    assert report["month"] == "2026-12" and report["currency"] == "USD"
    [x] = report["channels"]
    assert x["channel"] == "x"
    assert x["month"]["cost_usd"] == pytest.approx(0.045 + 0.02 + 0.01 + 0.015)
    first, extra = x["sessions"]
    assert first["start"] == FIRST.astimezone(SCHEDULE.timezone).isoformat()
    assert first["by_kind"] == {"dm_received": {"count": 2, "cost_usd": 0.02},
                                "dm_sent": {"count": 3, "cost_usd": 0.045}}
    assert first["cost_usd"] == pytest.approx(0.065) and not first["live"]
    assert extra["by_kind"] == {"dm_sent": {"count": 1, "cost_usd": 0.015}} and extra["live"]
    assert x["outside_sessions_usd"] == pytest.approx(0.01)
    assert x["latest_session"]["live"] and x["latest_session"]["cost_usd"] == 0.015

    november = costs.report(SCHEDULE, "2026-11", now=EXTRA)["channels"][0]
    assert november["month"]["cost_usd"] == 0.015 and november["sessions"] == [
        {**november["sessions"][0], "cost_usd": 0.0, "by_kind": {}}]


def test_a_channel_that_cannot_answer_is_reported_as_such() -> None:
    def broken(spans):
        raise RuntimeError("database down")

    costs.register("broken", broken)
    try:
        found = costs.report(SCHEDULE, "2026-12", now=FIRST)
    finally:
        costs.unregister("broken", broken)
    assert {"channel": "broken", "error": "unreadable"} in found["channels"]
