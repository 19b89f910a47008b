"""The desk's engine, sessions and schema migrations, on the project's database.

One engine per process and URL (:func:`session_factory`); each unit of work is
``with factory.begin() as session:``. The schema is created and upgraded by Alembic
(:func:`upgrade_to_head`), called at startup by the desk channel and the tracker store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from permanence import sqlite
from permanence.settings import database_url, masked

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ALEMBIC_INI = HERE / "alembic.ini"
MIGRATIONS = HERE / "migrations"

_lock = threading.Lock()
_factories: dict[str, sessionmaker] = {}


def make_engine(url: str | None = None) -> Engine:
    """A new engine on ``url`` (default: the project's database); SQLite's folder is created."""
    return sqlite.engine_for(url or database_url(), foreign_keys=True)


def session_factory(url: str | None = None) -> sessionmaker:
    """The process-wide session factory of ``url`` (one engine per process and URL)."""
    key = url or database_url()
    with _lock:
        factory = _factories.get(key)
        if factory is None:
            factory = sessionmaker(make_engine(key), future=True)
            _factories[key] = factory
        return factory


def dispose_all() -> None:
    """Close every engine (tests, shutdown)."""
    with _lock:
        for factory in _factories.values():
            factory.kw["bind"].dispose()
        _factories.clear()


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute, not through the ini file (whose interpolation would eat '%').
    config.attributes["url"] = url or database_url()
    return config


def upgrade_to_head(url: str | None = None) -> None:
    """Create or upgrade the desk's tables to the latest revision (idempotent)."""
    from alembic import command

    target = url or database_url()
    logger.info("desk.db.upgrade url=%s", masked(target))
    command.upgrade(alembic_config(target), "head")


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()
    finally:
        engine.dispose()


# The desk's own version table: other parts of the project may get their own migrations.
VERSION_TABLE = "desk_alembic_version"


async def in_session(factory: Callable[[], sessionmaker], work: Callable[[Session], Any]) -> Any:
    """Run ``work(session)`` in one transaction, in the default executor (off the event loop);
    ``factory`` gives the session factory, looked up at each call."""

    def unit() -> Any:
        with factory().begin() as session:
            return work(session)

    return await asyncio.get_running_loop().run_in_executor(None, unit)
