"""Rasa's SQL tracker store, configured by one URL, that erases conversations on request and
never loses a turn silently.

When an action sets the slot ``purge_requested`` (consent refused, "stop", "supprimez mes
données"), the conversation is erased from every store once the turn is saved
(:func:`permanence.erasure.erase_everywhere`: these events, the desk's cases, the X channel's
records). Nothing of the conversation is kept: refusing consent needs no record (LEGAL.md D4,
GDPR art. 17). The person's next message starts a new conversation, with the disclosure again.
The store registers its own eraser (:meth:`ConfidentialSQLTrackerStore.erase`) when it is built.

No silent loss:

- A failed save raises to the channel, and so does a failed erasure: the person is never told
  « effacé » for what was not erased. Rasa 3.6.21's ``Agent`` wraps every tracker store in a
  ``FailSafeTrackerStore`` (``rasa/core/agent.py``, ``Agent._create_tracker_store``) that logs a
  failed save and saves to an in-memory store instead, and turns a failed read into a new, empty
  conversation. :func:`install_no_fallback` (run when Rasa loads this module from
  ``endpoints.yml``, before it builds the ``Agent``) replaces ``Agent._create_tracker_store`` so
  that this store is used as it is, unwrapped; any other store keeps Rasa's behaviour.
- On SQLite, Rasa's engine waits 5 s for a lock (pysqlite's default); here it waits the
  project's busy timeout (``permanence.sqlite.BUSY_TIMEOUT_SECONDS``), in an executor thread:
  the event loop (other conversations, the desk, the X channel) does not wait with it.

After each save, the lawyer's desk is told about the turn (``desk.hooks``): a handover opens a
case, and a message written after it goes on the case. A desk failure is logged and never
breaks the conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url

from permanence import erasure, events, rasa_speedups, sqlite
from permanence.settings import database_url, masked

logger = logging.getLogger(__name__)
# The Rasa server loads this module (endpoints.yml): the place to fix Rasa's hot path.
rasa_speedups.install()

PURGE_SLOT = "purge_requested"
ERASER = erasure.TRACKER_EVENTS


class ConfidentialSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        parsed = make_url(url or database_url())
        dialect = parsed.drivername
        db = parsed.database or ""
        if dialect.startswith("sqlite") and db:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        logger.info("tracker_store.open url=%s", masked(str(parsed)))
        super().__init__(
            domain=domain,
            dialect=dialect,
            host=parsed.host,
            port=parsed.port,
            db=db,
            username=parsed.username,
            password=parsed.password,
            event_broker=event_broker,
            query=dict(parsed.query) or None,
        )
        # A database error's message must not carry the events (the person's words) to logs.
        self.engine.hide_parameters = True
        if sqlite.is_sqlite(self.engine):  # the file the desk shares; WAL is the file's mode
            sqlite.use_busy_timeout(self.engine)
            self.engine.dispose()  # the connections opened above had Rasa's 5 s timeout
            with self.engine.connect() as connection:
                sqlite.use_wal(connection.connection)
        self._desk_url = parsed.render_as_string(hide_password=False)
        self._new_events: dict[str, list[Any]] = {}
        erasure.register(ERASER, self.erase)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        # Remembered for the desk: the events this save adds.
        events = list(super()._additional_events(session, tracker))
        self._new_events[tracker.sender_id] = events
        return iter(events)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save the turn (raises if it could not), then erase the conversation everywhere if
        it asked to be (raises :class:`permanence.erasure.ErasureFailed` if any store could
        not), else tell the desk."""
        await self.stream_events(tracker)  # Rasa's event broker, if one is configured
        try:
            # Off the event loop: on SQLite a write may wait the busy timeout for the lock.
            await asyncio.get_running_loop().run_in_executor(None, self._write, tracker)
        finally:
            new_events = self._new_events.pop(tracker.sender_id, [])
        if tracker.get_slot(PURGE_SLOT):
            await asyncio.get_running_loop().run_in_executor(
                None, erasure.erase_everywhere, tracker.sender_id)
            return
        try:
            from desk import hooks

            await hooks.on_tracker_saved(self._desk_url, tracker, new_events)
        except Exception:  # the desk's boundary: the conversation goes on
            logger.exception("tracker_store.desk_hook_failed")

    def _write(self, tracker: DialogueStateTracker) -> None:
        """The database part of ``SQLTrackerStore.save`` (Rasa 3.6.21), unchanged, run in an
        executor thread instead of on the event loop."""
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(
                        INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            session.commit()

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many were deleted."""
        return events.erase(self.engine, sender_id)


def unwrapped(store: Any) -> Any:
    """The configured store inside Rasa's wrappers (``AwaitableTrackerStore``,
    ``FailSafeTrackerStore``: both keep it in ``_tracker_store``)."""
    seen = 0
    while isinstance(store, TrackerStore) and hasattr(store, "_tracker_store") and seen < 5:
        store = store._tracker_store
        seen += 1
    return store


_MARK = "_permanence_no_fallback"
# Rasa's own method (also when this module is loaded a second time, after the patch).
_rasa_create_tracker_store = getattr(Agent._create_tracker_store, "rasa_original",
                                     Agent._create_tracker_store)


def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """``Agent._create_tracker_store`` without the in-memory fallback for this store."""
    if store is not None and isinstance(unwrapped(store), ConfidentialSQLTrackerStore):
        store.domain = domain
        return store
    return _rasa_create_tracker_store(store, domain)


setattr(_create_tracker_store, _MARK, True)
_create_tracker_store.rasa_original = _rasa_create_tracker_store  # type: ignore[attr-defined]


def install_no_fallback() -> None:
    """Make Rasa's ``Agent`` use this store as configured, without ``FailSafeTrackerStore``
    (idempotent)."""
    if not getattr(Agent._create_tracker_store, _MARK, False):
        Agent._create_tracker_store = staticmethod(_create_tracker_store)


install_no_fallback()
