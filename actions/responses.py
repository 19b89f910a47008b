"""One way to send a response from domain.yml: with the firm's details filled in."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from permanence.firm import load_firm


def times_sent(tracker: Any, *responses: str) -> int:
    """How many of the bot's messages of this session were one of ``responses``."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") in ("session_started", "restart"):
            break
        if event.get("event") == "bot" and (
                (event.get("metadata") or {}).get("utter_action") in responses):
            count += 1
    return count


def say(dispatcher: CollectingDispatcher, response: str, **values: Any) -> None:
    """Send ``response`` with the firm's details and ``values`` available to its template."""
    dispatcher.utter_message(response=response, **{**load_firm().as_slots(), **values})
