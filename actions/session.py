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
SESSION_START = "action_session_start"


def disclosed(tracker: Tracker) -> bool:
    """Whether this session's disclosure reached the person: every response of ``DISCLOSURE``,
    in order, among the bot's messages since the session began.

    The session begins at the last run of ``action_session_start`` (its messages come right
    after it, before ``SessionStarted``) or at a restart. When the action server was down at the
    person's first message, Rasa logs the session start with none of its messages and never runs
    it again: the disclosure is then missing, and consent must not be recorded.
    """
    sent: list[str] = []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "restart" or (kind == "action" and event.get("name") == SESSION_START):
            break
        if kind == "bot":
            sent.append((event.get("metadata") or {}).get("utter_action") or "")
    remaining = iter(reversed(sent))  # oldest first; `in` consumes: an ordered subsequence
    return all(response in remaining for response in DISCLOSURE)


def disclose(dispatcher: CollectingDispatcher) -> None:
    """Send the disclosure, the terms, the privacy notice, the deadline warning and the
    consent question (LEGAL.md S1-S6), in that order."""
    for response in DISCLOSURE:
        say(dispatcher, response)


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
        disclose(dispatcher)
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(key, value) for key, value in load_firm().as_slots().items()]
        events.append(ActionExecuted("action_listen"))
        return events
