"""Rasa's SQL tracker store, configured by one URL, that erases conversations on request.

When an action sets the slot ``purge_requested`` (consent refused, "stop", "supprimez mes
données"), every stored event of that conversation is deleted once the turn is saved. Nothing of
the conversation is kept: refusing consent needs no record (LEGAL.md D4, GDPR art. 17), and the
desk's cases of the conversation go too (``desk/erasure.py``). The person's next message starts a
new conversation, with the disclosure again. (The X store keeps no text once a message is
handled or a reply sent: ``permanence/x_store.py``.)

After each save, the lawyer's desk is told about the turn (``desk.hooks``): a handover opens a
case, and a message written after it goes on the case. A desk failure is logged and never
breaks the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from permanence import rasa_speedups, sqlite
from permanence.settings import database_url, masked

logger = logging.getLogger(__name__)
# The Rasa server loads this module (endpoints.yml): the place to fix Rasa's hot path.
rasa_speedups.install()

PURGE_SLOT = "purge_requested"


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
        if sqlite.is_sqlite(self.engine):  # the file the desk shares; WAL is the file's mode
            with self.engine.connect() as connection:
                sqlite.use_wal(connection.connection)
        self._desk_url = parsed.render_as_string(hide_password=False)
        self._new_events: dict[str, list[Any]] = {}

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        # Remembered for the desk: the events this save adds.
        events = list(super()._additional_events(session, tracker))
        self._new_events[tracker.sender_id] = events
        return iter(events)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        new_events = self._new_events.pop(tracker.sender_id, [])
        purge = bool(tracker.get_slot(PURGE_SLOT))
        if purge:
            self.erase(tracker.sender_id)
        try:
            from desk import hooks

            if purge:
                await hooks.on_conversation_erased(self._desk_url, tracker.sender_id)
            else:
                await hooks.on_tracker_saved(self._desk_url, tracker, new_events)
        except Exception:  # the desk's boundary: the conversation goes on
            logger.exception("tracker_store.desk_hook_failed")

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many were deleted."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        logger.info("tracker_store.erased events=%d", deleted)
        return deleted
