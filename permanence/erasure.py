"""One erasure for every store that holds a person's data (LEGAL.md D4, GDPR art. 17).

Each store registers, at start-up, an *eraser* ``(conversation_id) -> rows deleted`` and
optionally a *pruner* ``(before) -> rows deleted`` for its retention of records that hold no
text (ids kept to recognise redeliveries):

- the tracker store's events (``permanence/tracker_store.py``, or ``permanence/events.py``
  outside the Rasa server);
- the desk's cases, messages and notes (``desk/erasure.py``, registered by the desk);
- the X channel's inbox, outbox, options cursor and invitations (``permanence/x_store.py``,
  registered by the X channel's runtime).

:func:`erase_everywhere` runs every eraser, even after one failed, then raises
:class:`ErasureFailed` if any did: a failed erasure is reported to the caller (and from there to
the person or the lawyer), never absorbed. Erasers are idempotent, so asking again finishes the
job. Both paths use it: the assistant's (« supprimez mes données », stop, consent refused: the
tracker store's ``purge_requested``) and the lawyer's (``desk/api.py``), and retention
(``desk/erasure.py:purge``).

Erasers are synchronous (they run in an executor, off the event loop). This module imports no
channel and no desk: stores register themselves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from permanence.logids import ref

logger = logging.getLogger(__name__)

Eraser = Callable[[str], int]
Pruner = Callable[[datetime], int]

# The names the project's stores register under.
TRACKER_EVENTS = "tracker_store.events"
DESK_CASES = "desk.cases"
X_STORE = "x_store"


@dataclass(frozen=True)
class _Store:
    eraser: Eraser
    pruner: Pruner | None


_stores: dict[str, _Store] = {}
_lock = threading.Lock()


class ErasureFailed(RuntimeError):
    """At least one store did not erase (or prune); ``failures`` maps its name to the error
    class (never a message: it could carry data)."""

    def __init__(self, failures: dict[str, str], done: dict[str, int]) -> None:
        self.failures = failures
        self.done = done
        super().__init__("erasure failed in " + ", ".join(f"{name} ({error})"
                                                          for name, error in failures.items()))


def register(name: str, eraser: Eraser, prune: Pruner | None = None) -> None:
    """Add (or replace, by ``name``) a store's eraser and optional pruner."""
    with _lock:
        _stores[name] = _Store(eraser, prune)
    logger.info("erasure.registered store=%s", name)


def unregister(name: str) -> None:
    with _lock:
        _stores.pop(name, None)


def reset() -> None:
    """Forget every store (between tests: a store registers itself when it is built)."""
    with _lock:
        _stores.clear()


def registered() -> tuple[str, ...]:
    with _lock:
        return tuple(_stores)


def _run(calls: dict[str, Callable[[], int]], event: str, subject: str) -> dict[str, int]:
    done: dict[str, int] = {}
    failures: dict[str, str] = {}
    for name, call in calls.items():
        try:
            done[name] = int(call())
        except Exception as error:  # noqa: BLE001 - every store is tried, then reported
            failures[name] = type(error).__name__
            logger.error("%s.failed store=%s %s error=%s", event, name, subject,
                         type(error).__name__)
    if failures:
        raise ErasureFailed(failures, done)
    logger.info("%s.done %s rows=%s", event, subject, done)
    return done


def erase_everywhere(conversation_id: str, skip: Collection[str] = ()) -> dict[str, int]:
    """Erase ``conversation_id`` from every registered store (but those named in ``skip``,
    which the caller erases itself); rows deleted per store.

    Raises :class:`ErasureFailed` if no store is registered or any store failed (the others
    have erased: asking again completes the erasure)."""
    with _lock:
        stores = {name: store for name, store in _stores.items() if name not in skip}
    if not stores:
        raise ErasureFailed({"registry": "NoStoreRegistered"}, {})
    return _run({name: (lambda s=store: s.eraser(conversation_id))
                 for name, store in stores.items()},
                "erasure", f"conversation={ref(conversation_id)}")


def prune_everywhere(before: datetime) -> dict[str, int]:
    """Run every registered pruner (records older than ``before``); raises like
    :func:`erase_everywhere`."""
    with _lock:
        pruners = {name: store.pruner for name, store in _stores.items() if store.pruner}
    return _run({name: (lambda p=pruner: p(before)) for name, pruner in pruners.items()},
                "erasure.prune", f"before={before.date().isoformat()}")
