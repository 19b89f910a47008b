"""The erasure registry (permanence/erasure.py), the tracker store's events eraser
(permanence/events.py) and the daily job claim (permanence/jobs.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, insert, select

from permanence import erasure, events, jobs, sqlite

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_erase_everywhere_runs_every_store_and_reports_counts() -> None:
    erased: list[tuple[str, str]] = []
    erasure.register("a", lambda cid: erased.append(("a", cid)) or 3)
    erasure.register("b", lambda cid: erased.append(("b", cid)) or 0)
    assert erasure.erase_everywhere("x:1") == {"a": 3, "b": 0}
    assert erasure.erase_everywhere("x:2", skip=("a",)) == {"b": 0}
    assert erased == [("a", "x:1"), ("b", "x:1"), ("b", "x:2")]


def test_a_failing_store_is_reported_after_the_others_erased() -> None:
    erased: list[str] = []

    def broken(cid: str) -> int:
        raise OSError("disk full: x:1 mes faits")

    erasure.register("first", broken)
    erasure.register("second", lambda cid: erased.append(cid) or 1)
    with pytest.raises(erasure.ErasureFailed) as failed:
        erasure.erase_everywhere("x:1")
    assert failed.value.failures == {"first": "OSError"}
    assert failed.value.done == {"second": 1}
    assert erased == ["x:1"]
    assert "mes faits" not in str(failed.value) and "x:1" not in str(failed.value)


def test_nothing_registered_is_a_failure_not_a_success() -> None:
    with pytest.raises(erasure.ErasureFailed):
        erasure.erase_everywhere("x:1")


def test_register_replaces_by_name_and_prune_runs_the_pruners() -> None:
    erasure.register("s", lambda cid: 1)
    erasure.register("s", lambda cid: 2, prune=lambda before: 7)
    erasure.register("t", lambda cid: 0)
    assert erasure.registered() == ("s", "t")
    assert erasure.erase_everywhere("x:1") == {"s": 2, "t": 0}
    assert erasure.prune_everywhere(T0) == {"s": 7}
    erasure.unregister("s")
    assert erasure.registered() == ("t",)


def engine_on(url: str):
    return create_engine(url, future=True)


def add_events(engine, rows: list[tuple[str, datetime]]) -> None:
    events.events.create(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(insert(events.events), [
            {"sender_id": sender, "timestamp": at.timestamp()} for sender, at in rows])


def test_events_eraser_and_idle_conversations(fresh_database_url) -> None:
    engine = engine_on(fresh_database_url)
    assert events.idle_since(engine, T0) == []  # no table yet: nothing to erase
    add_events(engine, [("x:old", T0 - timedelta(days=40)), ("x:old", T0 - timedelta(days=31)),
                        ("x:recent", T0 - timedelta(days=40)), ("x:recent", T0),
                        ("web:other", T0 - timedelta(days=90))])
    assert events.idle_since(engine, T0 - timedelta(days=30)) == ["web:other", "x:old"]
    assert events.erase(engine, "x:old") == 2
    assert events.erase(engine, "x:old") == 0
    with engine.connect() as connection:
        left = sorted(connection.execute(select(events.events.c.sender_id)).scalars())
    assert left == ["web:other", "x:recent", "x:recent"]
    engine.dispose()


def test_the_daily_job_is_claimed_by_one_holder_once_a_day(fresh_database_url) -> None:
    engine = engine_on(fresh_database_url)
    day = timedelta(days=1)
    assert jobs.claim(engine, "retention", "p1", day, now=T0)
    assert not jobs.claim(engine, "retention", "p2", day, now=T0)  # running in p1
    jobs.finished(engine, "retention", "p1", now=T0 + timedelta(minutes=2))
    assert not jobs.claim(engine, "retention", "p2", day, now=T0 + timedelta(hours=5))  # done
    assert jobs.claim(engine, "retention", "p2", day, now=T0 + timedelta(days=1, minutes=3))
    # p2 dies without finishing: taken over once its claim is an hour old.
    later = T0 + timedelta(days=1, minutes=30)
    assert not jobs.claim(engine, "retention", "p1", day, now=later)
    assert jobs.claim(engine, "retention", "p1", day, now=later + timedelta(hours=1))
    engine.dispose()


def test_the_sqlite_busy_timeout_helper_sets_the_projects_wait(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}", future=True)
    sqlite.use_busy_timeout(engine)
    with engine.connect() as connection:
        waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert waited == int(sqlite.BUSY_TIMEOUT_SECONDS * 1000) == 30000
