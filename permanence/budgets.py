"""The channels' sending budgets, as the desk shows them (X: 15 DMs per 15 minutes).

A channel whose sends are limited registers, when it starts, a *reporter*: a synchronous
callable (it may read a database; the desk calls it off the event loop) that returns a
JSON-ready dict (for X: ``permanence.x_store.Store.budget_status``). The desk asks
:func:`report` and shows what it gets. This module imports no channel and no desk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Reporter = Callable[[], dict[str, Any]]

X = "x"

_reporters: dict[str, Reporter] = {}
_lock = threading.Lock()


def register(name: str, reporter: Reporter) -> None:
    with _lock:
        _reporters[name] = reporter


def unregister(name: str, reporter: Reporter | None = None) -> None:
    """Forget ``name`` (only if it is still ``reporter``, when given: a runtime stopping does
    not unregister the one that replaced it)."""
    with _lock:
        if reporter is None or _reporters.get(name) == reporter:  # == : bound methods
            _reporters.pop(name, None)


def report() -> dict[str, dict[str, Any] | None]:
    """Each registered channel's budget; ``None`` for one whose reporter failed (logged)."""
    with _lock:
        reporters = dict(_reporters)
    result: dict[str, dict[str, Any] | None] = {}
    for name, reporter in sorted(reporters.items()):
        try:
            result[name] = reporter()
        except Exception:  # noqa: BLE001 - one channel's failure must not hide the others
            logger.exception("budgets.report_failed channel=%s", name)
            result[name] = None
    return result
