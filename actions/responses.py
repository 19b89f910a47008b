"""One way to send a response from domain.yml: with the firm's details filled in."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from permanence.firm import load_firm


def say(dispatcher: CollectingDispatcher, response: str, **values: Any) -> None:
    """Send ``response`` with the firm's details and ``values`` available to its template."""
    dispatcher.utter_message(response=response, **{**load_firm().as_slots(), **values})
