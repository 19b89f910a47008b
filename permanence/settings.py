"""Runtime settings from the environment (and .env), with the defaults documented in the README."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'permanence.db'}"


def database_url() -> str:
    """The project's database (tracker store and desk): an SQLite file by default."""
    return os.environ.get("PERMANENCE_DATABASE_URL") or DEFAULT_DATABASE_URL


def x_database_url() -> str:
    """The X channel's store (inbox, outbox, cursors, leases): ``PERMANENCE_X_DATABASE_URL``,
    else the project's database, except that an SQLite file gets a file of its own next to it
    (``permanence.db`` -> ``permanence-x.db``). SQLite has one write lock per file: apart, the
    webhook's acknowledgement never waits for a conversation being saved. A server such as
    PostgreSQL locks rows, so one database serves both."""
    explicit = os.environ.get("PERMANENCE_X_DATABASE_URL")
    if explicit:
        return explicit
    from sqlalchemy.engine import make_url

    url = make_url(database_url())
    database = url.database or ""
    if (url.get_backend_name() != "sqlite" or database in ("", ":memory:")
            or database.startswith("file:")):
        return database_url()
    path = Path(database)
    return url.set(database=str(path.with_name(f"{path.stem}-x{path.suffix}"))).render_as_string(
        hide_password=False)


def masked(url: str) -> str:
    """The URL with its password hidden, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
