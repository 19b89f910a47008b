"""channels/ is a shared piece: it never imports the desk or a channel's platform code."""

from __future__ import annotations

import ast
from pathlib import Path

CHANNELS = Path(__file__).resolve().parents[2] / "channels"


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_channels_never_import_the_desk_or_a_platform() -> None:
    files = sorted(CHANNELS.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for name in imported(path):
            top = name.split(".")[0]
            assert top not in ("desk", "connectors", "actions"), f"{path.name} imports {name}"
