"""Access to the recorded X API bodies shipped in ``fixtures/`` (see its README)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).with_name("fixtures")


@functools.cache
def _fixture_text(name: str) -> str:
    return (FIXTURES_DIR / name).read_text(encoding="utf-8")


def load_fixture(name: str) -> Any:
    """Return a fresh copy of the JSON fixture ``name`` (callers may mutate it)."""
    return json.loads(_fixture_text(name))
