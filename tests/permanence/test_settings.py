"""Where the databases are (permanence/settings.py)."""

from __future__ import annotations

import pytest

from permanence.settings import DEFAULT_DATABASE_URL, database_url, x_database_url


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERMANENCE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERMANENCE_X_DATABASE_URL", raising=False)


def test_the_x_store_gets_an_sqlite_file_of_its_own_by_default() -> None:
    assert database_url() == DEFAULT_DATABASE_URL
    assert x_database_url() == DEFAULT_DATABASE_URL.replace("permanence.db", "permanence-x.db")


def test_next_to_any_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", "sqlite:////srv/data/cabinet.sqlite3")
    assert x_database_url() == "sqlite:////srv/data/cabinet-x.sqlite3"


@pytest.mark.parametrize("url", [
    "postgresql://permanence:secret@127.0.0.1:5432/permanence",
    "sqlite://",
    "sqlite:///:memory:",
])
def test_a_server_or_a_memory_database_is_shared(monkeypatch: pytest.MonkeyPatch,
                                                  url: str) -> None:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", url)
    assert x_database_url() == url  # the password is kept: the store must connect


def test_an_explicit_x_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", "sqlite:////tmp/a.db")
    monkeypatch.setenv("PERMANENCE_X_DATABASE_URL", "sqlite:////tmp/b.db")
    assert x_database_url() == "sqlite:////tmp/b.db"
