"""Alembic environment of the channel store (``channels/store.py``): only its tables, with its
own version table (``channel_alembic_version``), so that it migrates apart from the desk.

``channels.migrate.upgrade`` passes an open connection (``config.attributes["connection"]``),
inside a transaction that holds the database's write lock (SQLite) or an advisory lock
(PostgreSQL); from the command line the URL is ``permanence.settings.x_database_url()``."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context

from channels.migrate import VERSION_TABLE
from channels.store import metadata

config = context.config
connection = config.attributes.get("connection")


def _configure(bind: Any) -> None:
    context.configure(connection=bind, target_metadata=metadata, version_table=VERSION_TABLE,
                      compare_type=True)


def run_migrations_online() -> None:
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from channels.migrate import lock
    from permanence import sqlite
    from permanence.settings import x_database_url

    engine = sqlite.engine_for(config.attributes.get("url") or x_database_url())
    try:
        with engine.begin() as bind:  # SQLite's write lock, or PostgreSQL's advisory lock
            lock(bind)
            _configure(bind)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the channel store has no offline migrations")
run_migrations_online()
