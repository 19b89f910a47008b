"""One store per database URL and process, opened at first use and registered for erasure and
retention (``permanence/erasure.py``): the pattern of the stores that live beside a channel's
(the web-chat links of X conversations, the web chat's kept messages)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from permanence import erasure
from permanence.settings import x_database_url

S = TypeVar("S")


class SharedStores(Generic[S]):
    """``get(url)``: the process's store on ``url`` (default: the channels' database);
    ``reset()``: close them all (tests)."""

    def __init__(self, create: Callable[[str], S], erasure_name: str) -> None:
        self._create = create
        self._erasure_name = erasure_name
        self._stores: dict[str, S] = {}
        self._lock = threading.Lock()

    def get(self, url: str | None = None) -> S:
        url = url or x_database_url()
        with self._lock:
            store = self._stores.get(url)
            if store is None:
                store = self._stores[url] = self._create(url)
                held: Any = store
                erasure.register(self._erasure_name, held.erase_conversation, prune=held.prune)
            return store

    def reset(self) -> None:
        with self._lock:
            for store in self._stores.values():
                held: Any = store
                held.close()
            self._stores.clear()
