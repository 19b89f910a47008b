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
- **A pool of open connections** (``QueuePool``) for a file: SQLAlchemy 1.4 opens a new
  connection for every unit of work on a SQLite file (``NullPool``), which the X channel's
  workers and senders paid several times per message.
- **Plain BEGIN for reads**: a connection with the execution option ``readonly=True``
  (``engine.execution_options(readonly=True)``, see :func:`reader`) starts a deferred
  transaction, a consistent snapshot that takes no lock a writer waits for.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0
POOL_SIZE = 8
POOL_OVERFLOW = 32


def make_engine(url: URL, *, foreign_keys: bool = False, **options: Any) -> Engine:
    """An engine on the SQLite database ``url``, set up as described above; the folder of the
    file is created."""
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in database
    if not in_memory and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)  # pooled: used by several threads
    connect_args.setdefault("timeout", BUSY_TIMEOUT_SECONDS)
    options.setdefault("hide_parameters", True)  # errors in logs never carry stored text
    if not in_memory:
        options.setdefault("poolclass", QueuePool)
        if options["poolclass"] is QueuePool:
            options.setdefault("pool_size", POOL_SIZE)
            options.setdefault("max_overflow", POOL_OVERFLOW)
    engine = create_engine(url, future=True, connect_args=connect_args, **options)
    configure(engine, foreign_keys=foreign_keys)
    return engine


def engine_for(url: str | URL, *, foreign_keys: bool = False, **options: Any) -> Engine:
    """The project's engine on any database ``url``: SQLite as set up here (:func:`make_engine`),
    another database with a pre-ping and parameters hidden from error messages (no stored text
    in the logs)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return make_engine(parsed, foreign_keys=foreign_keys, **options)
    options.setdefault("pool_pre_ping", True)
    options.setdefault("hide_parameters", True)
    return create_engine(parsed, future=True, **options)


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


def use_busy_timeout(engine: Engine, seconds: float = BUSY_TIMEOUT_SECONDS) -> None:
    """Every new connection of ``engine`` (one not made by :func:`make_engine`, e.g. Rasa's
    tracker store's) waits ``seconds`` for a lock, instead of pysqlite's 5 s."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
        finally:
            cursor.close()


def reader(engine: Engine) -> Engine:
    """``engine`` for read-only units of work: on SQLite a deferred transaction."""
    return engine.execution_options(readonly=True) if is_sqlite(engine) else engine
