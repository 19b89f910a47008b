"""Shared fixtures: a fresh database per test, on SQLite and optionally PostgreSQL.

Tests that take ``fresh_database_url`` (through the desk's ``empty_url`` or the X store's
``store_url``) run once per backend:

- ``sqlite``: always; a file in ``tmp_path``.
- ``postgres``: only when ``PERMANENCE_TEST_POSTGRES_URL`` is set (an existing server, e.g.
  ``postgresql://user:pass@127.0.0.1:5432/test``), or when ``PERMANENCE_TEST_POSTGRES_THROWAWAY=1``
  (a throwaway server started by :mod:`sandbox.postgres`, shared with the benchmarks, from
  Debian's ``/usr/lib/postgresql/*/bin``, on 127.0.0.1, as ``nobody`` when run as root;
  ``make test`` sets it). Otherwise the postgres parameter is not generated at all. A set but
  unreachable URL fails.

Each postgres test works in its own schema (``search_path`` set through the URL), dropped after
the test; one server serves the whole session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sandbox.postgres import PostgresUnavailable, ThrowawayPostgres
from sandbox.postgres import start_throwaway_postgres as start_server

POSTGRES_URL_VAR = "PERMANENCE_TEST_POSTGRES_URL"
THROWAWAY_VAR = "PERMANENCE_TEST_POSTGRES_THROWAWAY"


def database_backends() -> list[str]:
    wanted = os.environ.get(POSTGRES_URL_VAR) or os.environ.get(THROWAWAY_VAR) == "1"
    return ["sqlite", "postgres"] if wanted else ["sqlite"]


# ----------------------------------------------------------- throwaway PostgreSQL


def start_throwaway_postgres() -> ThrowawayPostgres:
    """:func:`sandbox.postgres.start_throwaway_postgres`, failing the test session if it cannot."""
    try:
        return start_server()
    except PostgresUnavailable as error:
        pytest.fail(f"{THROWAWAY_VAR}=1 but the throwaway PostgreSQL did not start: {error}")


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL server to test against (only requested by the postgres parameter)."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure means unreachable
            pytest.fail(
                f"{POSTGRES_URL_VAR} is set but the server is unreachable "
                f"({type(error).__name__}): unset it to run on SQLite only",
                pytrace=False,
            )
        finally:
            engine.dispose()
        yield url
        return
    server = start_throwaway_postgres()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=database_backends())
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or a schema of its own on PostgreSQL
    (dropped after the test). Tests that take it run once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base_url = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _fresh_erasure_registry() -> Iterator[None]:
    """Stores register their erasers when built (permanence/erasure.py): none outlives its test."""
    from permanence import erasure

    erasure.reset()
    yield
    erasure.reset()
