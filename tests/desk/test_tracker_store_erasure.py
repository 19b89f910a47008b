"""The tracker store erases everywhere and never loses a turn silently (tracker_store.py),
on SQLite and PostgreSQL: no in-memory fallback in Rasa's Agent, a failed save or erasure raises,
SQLite waits the project's busy timeout."""

from __future__ import annotations

import pytest
from desk_testlib import handoff_tracker
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import text

from desk import cases, db
from permanence import erasure
from permanence.tracker_store import ConfidentialSQLTrackerStore, unwrapped


@pytest.fixture(autouse=True)
def _project_database(desk_url, monkeypatch) -> None:
    # endpoints.yml names no URL: the store opens the project's database.
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)


def rasa_store(url: str, domain) -> TrackerStore:
    """The store as the Rasa server builds it from endpoints.yml, inside its Agent."""
    store = TrackerStore.create(EndpointConfig(
        type="permanence.tracker_store.ConfidentialSQLTrackerStore"))
    built = Agent(domain=domain, tracker_store=store).tracker_store
    assert str(unwrapped(built).engine.url.database) in url
    return built


def test_the_agent_uses_the_store_without_rasas_in_memory_fallback(desk_url, domain) -> None:
    store = rasa_store(desk_url, domain)
    assert isinstance(unwrapped(store), ConfidentialSQLTrackerStore)
    assert not isinstance(store, FailSafeTrackerStore)
    # Any other store keeps Rasa's behaviour.
    other = Agent(domain=domain, tracker_store=InMemoryTrackerStore(domain)).tracker_store
    assert isinstance(other, FailSafeTrackerStore)
    assert erasure.TRACKER_EVENTS in erasure.registered()
    unwrapped(store).engine.dispose()


def test_sqlite_connections_wait_the_projects_busy_timeout(tmp_path, domain) -> None:
    store = ConfidentialSQLTrackerStore(domain=domain, url=f"sqlite:///{tmp_path / 'p.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 30000
    store.engine.dispose()


async def test_a_failed_save_or_read_raises_to_the_caller(desk_url, domain) -> None:
    store = rasa_store(desk_url, domain)
    tracker = handoff_tracker(domain, "x:5001")
    await store.save(tracker)
    with unwrapped(store).engine.begin() as connection:  # the database loses its table
        connection.execute(text("ALTER TABLE events RENAME TO events_gone"))
    tracker.update(UserUttered("un autre message"))
    with pytest.raises(Exception, match="events"):
        await store.save(tracker)
    with pytest.raises(Exception, match="events"):
        await store.retrieve("x:5001")  # not None: that would start a new conversation
    unwrapped(store).engine.dispose()


async def test_purge_requested_erases_every_store_and_a_failure_raises(desk_url, domain) -> None:
    store = rasa_store(desk_url, domain)
    await store.save(handoff_tracker(domain, "x:6001"))  # a case opens (desk eraser registered)
    with db.session_factory(desk_url).begin() as session:
        assert cases.open_case_id(session, "x:6001") is not None
    assert erasure.DESK_CASES in erasure.registered()

    failing: list[str] = []

    def broken(conversation_id: str) -> int:
        failing.append(conversation_id)
        raise OSError("channel store unavailable")

    erasure.register("broken", broken)
    tracker = await store.retrieve("x:6001")
    tracker.update(SlotSet("purge_requested", True))
    with pytest.raises(erasure.ErasureFailed) as failed:
        await store.save(tracker)
    assert failed.value.failures == {"broken": "OSError"} and failing == ["x:6001"]
    assert await store.retrieve("x:6001") is None  # the other stores did erase
    with db.session_factory(desk_url).begin() as session:
        assert cases.open_case_id(session, "x:6001") is None

    erasure.unregister("broken")
    again = handoff_tracker(domain, "x:6002")
    again.update(SlotSet("purge_requested", True))
    await store.save(again)
    assert await store.retrieve("x:6002") is None
    unwrapped(store).engine.dispose()


async def test_a_database_error_does_not_carry_the_persons_words(desk_url, domain) -> None:
    store = rasa_store(desk_url, domain)
    with unwrapped(store).engine.begin() as connection:
        connection.execute(text("ALTER TABLE events RENAME TO events_gone"))
    tracker = handoff_tracker(domain, "x:7001")
    tracker.update(UserUttered("mon secret Zorglub"))
    with pytest.raises(Exception) as failed:
        await store.save(tracker)
    assert "Zorglub" not in str(failed.value) and "x:7001" not in str(failed.value)
    unwrapped(store).engine.dispose()


async def test_a_save_waiting_for_the_sqlite_lock_does_not_stop_the_event_loop(
    tmp_path, domain, monkeypatch
) -> None:
    import asyncio
    import sqlite3
    import threading
    import time

    path = tmp_path / "locked.db"
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", f"sqlite:///{path}")
    store = rasa_store(f"sqlite:///{path}", domain)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(20)
        connection.execute("ROLLBACK")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    saving = asyncio.ensure_future(store.save(handoff_tracker(domain, "x:8001")))
    started = time.monotonic()
    for _ in range(20):  # two seconds of other work on the loop while the save waits
        await asyncio.sleep(0.1)
    assert time.monotonic() - started < 5 and not saving.done()
    release.set()
    await asyncio.wait_for(saving, 30)
    holder.join()
    assert await store.retrieve("x:8001") is not None
    unwrapped(store).engine.dispose()
