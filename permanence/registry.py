"""A registry of what the channels give the desk, by channel name (thread-safe).

A channel registers its functions when it starts and unregisters them when it stops; the desk
looks them up. So the desk never imports a channel, and shows nothing for a channel that is not
running. Used by ``permanence/costs.py`` and ``permanence/public_posts.py``.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self) -> None:
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, entry: T) -> None:
        with self._lock:
            self._entries[name] = entry

    def unregister(self, name: str, entry: T | None = None) -> None:
        """Forget ``name`` (only if it is still ``entry``, when given: a runtime stopping does
        not unregister the one that replaced it)."""
        with self._lock:
            if entry is None or self._entries.get(name) == entry:  # == : bound methods
                self._entries.pop(name, None)

    def get(self, name: str) -> T | None:
        with self._lock:
            return self._entries.get(name)

    def items(self) -> list[tuple[str, T]]:
        """The entries, by channel name."""
        with self._lock:
            return sorted(self._entries.items())
