"""How the project uses SQLite (the default database): one place for the X store, the desk and
the tracker store, which share one file.

- **WAL journal** (``PRAGMA journal_mode=WAL``, a property of the file, set at every connect):
  readers never wait for the writer and the writer never waits for readers; a commit appends to
  the log instead of rewriting pages. ``synchronous`` stays at its default (FULL): a
  transaction the assistant has acknowledged (a webhook answered 200, a reply recorded as
  sent) survives a power cut, not only a crash.
- **BEGIN IMMEDIATE** for every unit of work that may write: the write lock is taken at the
  start, so two writers wait for each other (busy timeout) instead of failing when a reading
  transaction turns into a writing one. This is the recipe of SQLAlchemy's pysqlite docs with
  IMMEDIATE instead of a plain BEGIN; it also makes SAVEPOINT work.
- **Plain BEGIN for reads**: a connection with the execution option ``readonly=True``
  (``engine.execution_options(readonly=True)``, see :func:`reader`) starts a deferred
  transaction, a consistent snapshot that takes no lock a writer waits for.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def configure(engine: Engine, *, foreign_keys: bool = False) -> None:
    """WAL, and BEGIN IMMEDIATE (or BEGIN for ``readonly`` connections) on ``engine``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not emit its own BEGIN
        use_wal(dbapi_connection)
        if foreign_keys:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("readonly"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def use_wal(dbapi_connection: Any) -> None:
    """Switch the database file to the WAL journal (no-op for an in-memory database, or when
    another connection holds a lock at this moment: a later connect switches it)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:  # noqa: BLE001 - e.g. "database is locked": not fatal
        logger.debug("sqlite.wal_not_set error=%s", type(exc).__name__)
    finally:
        cursor.close()


def reader(engine: Engine) -> Engine:
    """``engine`` for read-only units of work: on SQLite a deferred transaction."""
    return engine.execution_options(readonly=True) if is_sqlite(engine) else engine
