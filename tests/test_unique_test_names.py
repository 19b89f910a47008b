"""pytest imports test modules by their basename (rootdir, no packages): two test files with
the same name in different folders stop the whole run at collection. Caught here, first."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_two_test_files_share_a_name() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py")
                    if not (path.parent / "__init__.py").exists())
    assert [name for name, count in names.items() if count > 1] == []
