"""What the tracker store tells the desk after saving a turn (see permanence/tracker_store.py).

- The turn's new events hold ``action_handoff`` then a pause (``ConversationPaused``): open the
  conversation's case (idempotent: one open case per conversation). A new P0 case is announced
  to the alert webhook (:mod:`desk.alerts`: once per case, on a thread of its own), and the
  lawyers are mailed about it (:mod:`desk.mail`: P0 always, others by preference; once per case).
- The conversation is paused and the person wrote again: put the message on the open case, and
  mail the lawyer who holds it (:mod:`desk.mail`: no word of the message); an
  erasure request (« supprimez mes données ») flags the case and is acknowledged to the person
  at once (:mod:`desk.erasure_request`).
- The conversation was erased (``on_conversation_erased``): its cases go too (desk/erasure.py).

The desk's tables are created on first use (:func:`desk.db.upgrade_to_head`, once per URL and
process). The database work runs in the default executor; once it is committed, the lawyers'
pages are told in-process (:func:`desk.live.publish`). Errors propagate: the caller logs
them and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from desk import alerts, cases, db, erasure, erasure_request, live, mail

logger = logging.getLogger(__name__)

_ready: set[str] = set()
_ready_lock = threading.Lock()


def ensure_schema(url: str) -> None:
    """The desk's tables on ``url``, and its eraser registered (a case may open here)."""
    with _ready_lock:
        if url not in _ready:
            db.upgrade_to_head(url)
            erasure.register(url)
            _ready.add(url)


def plan(url: str, tracker: Any, new_events: Sequence[Any]
         ) -> Callable[[], tuple[str, str | None] | None] | None:
    """The database work for this turn, or None; reads the tracker on the caller's thread. The
    work returns (conversation id, channel) when the person is to be told their erasure
    request is transmitted."""
    if cases.handed_off(new_events):
        source = cases.source_from_tracker(tracker)

        def open_case() -> None:
            ensure_schema(url)
            with db.session_factory(url).begin() as session:
                case_id, created = cases.open_case(session, source)
                tier = cases.get_summary(session, case_id)["urgency"]
            if created:  # committed: the lawyers' pages hear of it at once
                live.publish("case.opened", case_id)
                alerts.dispatch(url, case_id, tier)
                mail.dispatch_case(url, case_id)

        return open_case
    if not tracker.is_paused():
        return None
    said = [
        e for e in new_events
        if getattr(e, "type_name", None) == "user" and isinstance(getattr(e, "text", None), str)
    ]
    texts = [e.text for e in said]
    if not texts:
        return None
    sender_id = tracker.sender_id
    asks_erasure = any(erasure_request.asks_erasure(e) for e in said)

    def record() -> tuple[str, str | None] | None:
        ensure_schema(url)
        flagged = None
        with db.session_factory(url).begin() as session:
            recorded = [cases.record_person_message(session, sender_id, text) for text in texts]
            case_id = cases.open_case_id(session, sender_id)
            if asks_erasure and case_id is not None:
                cases.flag_erasure_request(session, sender_id)
                flagged = (sender_id, cases.get_summary(session, case_id)["channel"])
        if case_id is not None and any(recorded):
            live.publish("case.message", case_id)
            mail.dispatch_message(url, case_id)
        return flagged

    return record


async def on_tracker_saved(url: str, tracker: Any, new_events: Sequence[Any]) -> None:
    work = plan(url, tracker, new_events)
    if work is not None:
        acknowledge = await asyncio.get_running_loop().run_in_executor(None, work)
        if acknowledge is not None:
            erasure_request.acknowledge(*acknowledge)


async def on_conversation_erased(url: str, sender_id: str) -> None:
    def erase() -> None:
        ensure_schema(url)
        with db.session_factory(url).begin() as session:
            erasure.erase_conversation(session, sender_id)

    await asyncio.get_running_loop().run_in_executor(None, erase)
