"""Alembic environment of the desk: only the ``desk_*`` tables are managed here (the Rasa
tracker store and the X store create their own tables)."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context

from desk.db import VERSION_TABLE, make_engine
from desk.models import metadata

config = context.config
url = config.attributes.get("url")
if url is None and config.config_file_name is not None:
    # Run from the alembic command line: its logging setup, and the project's URL.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table":
        return bool(name and name.startswith("desk_"))
    return True


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=url or str(make_engine().url),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
