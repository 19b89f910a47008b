"""Session start: the disclosure comes before anything else (LEGAL.md S1-S6)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.responses import say
from permanence.firm import load_firm

DISCLOSURE = (
    "utter_disclosure",
    "utter_terms",
    "utter_privacy",
    "utter_deadline_warning",
    "utter_ask_consent",
)


class ActionSessionStart(Action):
    """Start the session: say who we are, the terms, the privacy notice, then ask consent.

    The person's first message (often the question itself) is processed right after this
    and kept by ``action_remember_question``.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        for response in DISCLOSURE:
            say(dispatcher, response)
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(key, value) for key, value in load_firm().as_slots().items()]
        events.append(ActionExecuted("action_listen"))
        return events
