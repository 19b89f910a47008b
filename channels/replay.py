"""The assistant's messages of one turn, read back from a saved conversation.

Rasa saves a turn (the person's message and every event it caused) once the turn is over. A
server killed after that save but before the turn's replies were queued (``Store.turn_commit``)
must not run the turn again: Rasa would answer the same message twice. The runtime then takes
the turn's messages from the saved conversation instead, with :func:`turn_messages`.

A turn's messages are the bot messages after the person's message, up to their next one (or
the next session), plus those of a session that started with this message (the disclosure: Rasa runs
``action_session_start`` before logging the message). The lawyer's messages (written from the
desk, ``{"author": "lawyer"}``) are not the assistant's and were delivered by the desk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)

LAWYER = "lawyer"


def _session_start(event: Event) -> bool:
    """Rasa logs a new session as ``action_session_start``, its messages (the disclosure),
    then ``SessionStarted``: the session begins at the action."""
    return ((isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME)
            or isinstance(event, SessionStarted))


def turn_messages(events: Iterable[Event], message_id: str) -> list[dict[str, Any]] | None:
    """What the assistant said in answer to the message ``message_id`` (as dicts for
    ``OutputChannel.send_response``), or None if no saved message has that id."""
    events = list(events)
    index = next((i for i, event in enumerate(events)
                  if isinstance(event, UserUttered) and event.message_id == message_id), None)
    if index is None:
        return None
    start = index
    for earlier in range(index - 1, -1, -1):
        event = events[earlier]
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
            start = earlier  # the session this message started, its disclosure included
            break
    messages = []
    for position in range(start, len(events)):
        event = events[position]
        if position > index and (isinstance(event, UserUttered) or _session_start(event)):
            break  # the next turn (a new session starts with the next message)
        if isinstance(event, BotUttered) and (event.metadata or {}).get("author") != LAWYER:
            messages.append(event.message())
    return messages
