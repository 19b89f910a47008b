"""Runtime settings from the environment (and .env), with the defaults documented in the README."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'permanence.db'}"


def database_url() -> str:
    """The project's database (tracker store, and later the desk): SQLite file by default."""
    return os.environ.get("PERMANENCE_DATABASE_URL") or DEFAULT_DATABASE_URL


def masked(url: str) -> str:
    """The URL with its password hidden, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
