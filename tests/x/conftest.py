"""Fixtures of the X channel's in-process tests: the real X emulator on 127.0.0.1, a fresh
database (SQLite, and PostgreSQL when the run has one), an HTTP client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from sandbox.x_emulator import EmulatorConfig, RunningEmulator, run_emulator


@asynccontextmanager
async def movable_emulator(**config: Any) -> AsyncIterator[RunningEmulator]:
    """The emulator (``EmulatorConfig`` overrides in ``config``), its clock movable through
    ``emu.clock.offset``."""
    clock = SimpleNamespace(offset=0.0)
    settings = EmulatorConfig(clock=lambda: time.time() + clock.offset, timestamp_skew=None,
                              **config)
    async with run_emulator(settings) as emu:
        emu.clock = clock  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def emulator_with() -> Any:
    """:func:`movable_emulator`, for a test module that needs other emulator settings."""
    return movable_emulator


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    """The emulator, its clock movable through ``emu.clock.offset``."""
    async with movable_emulator() as emu:
        yield emu


@pytest.fixture
def db_url(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("PERMANENCE_X_DATABASE_URL", fresh_database_url)  # one database here
    return fresh_database_url


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
