"""Fixtures for the X store tests: one fresh database per test (backends: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from permanence.x_store import Store


@pytest.fixture
def store_url(fresh_database_url: str) -> str:
    """A fresh, empty database URL shared by every Store a test opens."""
    return fresh_database_url


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Opens a new Store (its own engine: another "process") on the test's database."""
    stores: list[Store] = []

    def _open() -> Store:
        store = Store.create(store_url)
        stores.append(store)
        return store

    yield _open
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()

