"""Answer « vous êtes un robot ? » / « vous êtes humain ? » as asked (actions/identity.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import answer_for
from actions.responses import say


class ActionIAmABot(Action):
    """Say that this is an automated assistant, with « Oui » or « Non » as the question needs."""

    def name(self) -> str:
        return "action_iamabot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say(dispatcher, answer_for((tracker.latest_message or {}).get("text")))
        return []
