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


def trusted_proxies() -> str:
    """``PERMANENCE_TRUSTED_PROXIES``: the reverse proxies (comma-separated IPs or CIDRs) whose
    ``X-Forwarded-For`` the desk believes; empty by default (the peer address is the client)."""
    return os.environ.get("PERMANENCE_TRUSTED_PROXIES", "")


def desk_url() -> str:
    """``PERMANENCE_DESK_URL``: the desk's address as the lawyers reach it (links in alerts)."""
    return (os.environ.get("PERMANENCE_DESK_URL") or "http://127.0.0.1:5005/desk").rstrip("/")


def desk_token_days() -> int:
    """``PERMANENCE_DESK_TOKEN_DAYS``: how long an API bearer token is valid (default 90)."""
    raw = os.environ.get("PERMANENCE_DESK_TOKEN_DAYS") or "90"
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise ValueError("PERMANENCE_DESK_TOKEN_DAYS must be a number of days from 1 to 3650")
    return int(raw)
