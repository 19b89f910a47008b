"""A person asks for erasure (« supprimez mes données ») while the lawyer has the conversation.

The handover paused the Rasa conversation: the assistant predicts nothing, so its erasure rule
(``data/rules.yml``, « Delete my data - erase ») does not run. The tracker store still records
the message, parsed by the NLU (its intent is in the event), and tells the desk
(``desk/hooks.py``). Here:

- :func:`asks_erasure`: is this message (a user event) an erasure request? The NLU's
  ``delete_data`` intent, or the words themselves (:data:`REQUEST`), so that a low-confidence
  parse still counts.
- the case is flagged (``desk_case.erasure_requested_at``, audited ``case.erasure_requested``)
  and the lawyer erases from the case page (« Effacer ses données »);
- :func:`acknowledge`: the person is told at once, through their own channel (the web chat
  room, the X outbox), and the acknowledgement is recorded in the conversation as the
  assistant's. It runs as a task of its own, after the turn: the conversation's lock is held
  while the turn is saved. The channel's sender is registered by the desk channel at start-up
  (:func:`register`); without it (a process that serves no channel), nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.shared.core.events import BotUttered

from actions.parsing import fold
from desk.delivery import output_channel

logger = logging.getLogger(__name__)

INTENT = "delete_data"
ACKNOWLEDGEMENT = ("Votre demande d'effacement est transmise à l'avocat : vos messages et les "
                   "informations de cette conversation seront effacés de nos systèmes.")
# « supprimez mes données », « effacez mes messages », « je veux qu'on efface mes infos »…
# The person's own data (« mes », « cette conversation »), not a decision's (« la préfecture a
# retiré toutes les informations du dossier » is no request).
REQUEST = re.compile(
    r"\b(?:supprim|effac|detrui)\w*\b.{0,40}\b(?:mes|mon|ma|nos|cette|ces)\s+"
    r"(?:\w+\s+)?(?:donnees|messages|infos?|informations|conversation|historique|traces?)\b")

Sender = Callable[[str, str | None, str], Awaitable[str]]
_sender: Sender | None = None
_tasks: set[asyncio.Task] = set()


def asks_erasure(event: Mapping[str, Any] | Any) -> bool:
    """True if a user event (a dict or a Rasa ``UserUttered``) asks for erasure."""
    if isinstance(event, Mapping):
        text, intent = event.get("text"), (event.get("parse_data") or {}).get("intent")
    else:
        text, intent = getattr(event, "text", None), getattr(event, "intent", None)
    if isinstance(intent, Mapping) and intent.get("name") == INTENT:
        return True
    if not isinstance(text, str):
        return False
    if text.strip() == f"/{INTENT}":
        return True
    return bool(REQUEST.search(fold(text)))


def register(app: Any) -> None:
    """Send acknowledgements through ``app``'s input channels (the Rasa server's)."""
    global _sender

    async def send(conversation_id: str, channel_name: str | None, text: str) -> str:
        output = output_channel(app, channel_name)
        if output is None:
            return "unsupported"
        await output.send_text_message(conversation_id, text)
        agent = getattr(app.ctx, "agent", None)
        if agent is not None and agent.tracker_store is not None:
            async with agent.lock_store.lock(conversation_id):
                tracker = await agent.tracker_store.retrieve(conversation_id)
                if tracker is not None:
                    tracker.update(BotUttered(text, metadata={"author": "assistant",
                                                              "erasure_request": True}))
                    await agent.tracker_store.save(tracker)
        return "sent"

    _sender = send


def unregister() -> None:
    global _sender
    _sender = None


def acknowledge(conversation_id: str, channel_name: str | None) -> None:
    """Tell the person, on a task of its own (call from the event loop)."""
    if _sender is None:
        logger.info("desk.erasure_request.no_channel channel=%s", channel_name)
        return
    sender = _sender

    async def run() -> None:
        try:
            result = await sender(conversation_id, channel_name, ACKNOWLEDGEMENT)
            logger.info("desk.erasure_request.acknowledged channel=%s result=%s", channel_name,
                        result)
        except Exception:  # noqa: BLE001 - the boundary: the case stays flagged
            logger.exception("desk.erasure_request.acknowledge_failed channel=%s",
                             channel_name)

    task = asyncio.get_running_loop().create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
