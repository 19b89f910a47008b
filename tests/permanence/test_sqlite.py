"""The project's SQLite setup (permanence/sqlite.py): WAL, writers serialised, readers free."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from permanence import sqlite
from permanence.x_store import Store


def _engine(path, timeout: float = 30.0):
    engine = create_engine(f"sqlite:///{path}", future=True,
                           connect_args={"timeout": timeout, "check_same_thread": False})
    sqlite.configure(engine)
    return engine


@contextlib.contextmanager
def write_lock_held(engine, statement: str):
    """Another thread holds the write lock (``statement`` in BEGIN IMMEDIATE) for the block."""
    holding = threading.Event()
    release = threading.Event()

    def hold():
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(5)
        yield
    finally:
        release.set()
        thread.join()


def test_the_file_is_switched_to_wal(tmp_path):
    engine = _engine(tmp_path / "a.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    # Persistent: a plain connection opened afterwards sees the WAL journal.
    raw = sqlite3.connect(tmp_path / "a.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_a_reader_does_not_wait_for_a_writer(tmp_path):
    engine = _engine(tmp_path / "b.db", timeout=5.0)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    with write_lock_held(engine, "INSERT INTO t VALUES (2)"):
        started = time.monotonic()
        with sqlite.reader(engine).begin() as connection:
            # The snapshot: the writer's row is not committed yet.
            assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        waited = time.monotonic() - started
        # A writing unit of work, by contrast, waits for the lock (busy timeout).
        writer_blocked = threading.Event()

        def second_writer():
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (3)")
            writer_blocked.set()

        other = threading.Thread(target=second_writer)
        other.start()
        assert not writer_blocked.wait(0.5)
    other.join(10)
    assert writer_blocked.is_set()
    assert waited < 1.0  # the reader did not wait for the 10 s the writer could hold
    with sqlite.reader(engine).begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 3
    engine.dispose()


def test_the_reader_is_the_engine_itself_elsewhere():
    engine = create_engine("postgresql://u@127.0.0.1:1/db", future=True)
    assert sqlite.reader(engine) is engine


@pytest.mark.parametrize("method", ["inbox_claim_next", "outbox_next_due"])
def test_looking_for_work_takes_no_write_lock_when_there_is_none(tmp_path, method):
    store = Store.create(f"sqlite:///{tmp_path / 'c.db'}")
    holder = _engine(tmp_path / "c.db", timeout=5.0)
    with write_lock_held(holder, "UPDATE x_cursor SET value = value"):
        started = time.monotonic()
        found = (store.inbox_claim_next("w") if method == "inbox_claim_next"
                 else store.outbox_next_due())
        waited = time.monotonic() - started
    assert found is None
    assert waited < 1.0
    store.close()
    holder.dispose()
