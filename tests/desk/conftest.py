"""Fixtures for the desk tests: a fresh database per test, migrated to head by Alembic.

The backends (SQLite, and PostgreSQL when asked for) come from ``fresh_database_url`` in
tests/conftest.py; each postgres test works in its own schema, dropped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from sqlalchemy.orm import sessionmaker

from desk import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_url(fresh_database_url: str) -> Iterator[str]:
    """A fresh, empty database URL (no desk tables yet)."""
    yield fresh_database_url
    db.dispose_all()  # before the schema is dropped


@pytest.fixture
def desk_url(empty_url: str) -> Iterator[str]:
    """A fresh database with the desk's tables at the head revision."""
    db.upgrade_to_head(empty_url)
    yield empty_url
    db.dispose_all()


@pytest.fixture
def factory(desk_url: str) -> sessionmaker:
    return db.session_factory(desk_url)


# ---------------------------------------------------------------------- trackers


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))
