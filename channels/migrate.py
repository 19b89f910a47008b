"""The channel store's schema, brought up to date by Alembic (``channels/migrations``).

:func:`upgrade` runs at every start of a store (``Store.create``): a no-op when the database is
at the head already. It is safe when several processes start at once: the whole upgrade runs in
one transaction that holds SQLite's write lock (``BEGIN IMMEDIATE``, ``permanence/sqlite.py``)
or a PostgreSQL advisory lock, and the revision is read again under that lock. The version
table is the store's own (:data:`VERSION_TABLE`): the desk's migrations (``desk/migrations``,
``desk_alembic_version``) and these never see each other's revisions, even in one database."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

VERSION_TABLE = "channel_alembic_version"
HERE = Path(__file__).resolve().parent
# pg_advisory_xact_lock key of the channel store's migrations (any constant unique in the app).
ADVISORY_LOCK = 0x5045524D  # "PERM"


def alembic_config(connection: Connection | None = None):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def lock(connection: Connection) -> None:
    """Serialise the store's migrations among processes, until the transaction ends (SQLite:
    its write lock, taken by ``BEGIN IMMEDIATE`` already)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the channel store's tables to ``revision`` (default: the head)."""
    from alembic import command

    with engine.begin() as connection:
        lock(connection)
        current = current_revision(connection)
        if current == (head() if revision == "head" else revision):
            return
        logger.warning("channels.migrate.upgrade from=%s to=%s", current, revision)
        command.upgrade(alembic_config(connection), revision)
