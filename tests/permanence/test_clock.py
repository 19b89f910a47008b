from datetime import date, datetime, timezone

import pytest

from permanence import clock


def test_the_clock_runs_unless_frozen(monkeypatch) -> None:
    monkeypatch.delenv(clock.FROZEN_ENV, raising=False)
    before = datetime.now(timezone.utc)
    assert before <= clock.now() <= datetime.now(timezone.utc)


def test_a_frozen_clock_counts_days_in_paris(monkeypatch) -> None:
    # 23:30 UTC on a Monday is already Tuesday in Paris (summer time, +02:00).
    monkeypatch.setenv(clock.FROZEN_ENV, "2026-10-12T23:30:00+00:00")
    assert clock.now() == datetime(2026, 10, 12, 23, 30, tzinfo=timezone.utc)
    assert clock.today() == date(2026, 10, 13)
    assert clock.now_paris().hour == 1


@pytest.mark.parametrize("raw", ["demain", "2026-10-13T10:00:00"])
def test_a_frozen_clock_must_be_a_moment_with_its_offset(monkeypatch, raw) -> None:
    monkeypatch.setenv(clock.FROZEN_ENV, raw)
    with pytest.raises(clock.ClockError):
        clock.now()
