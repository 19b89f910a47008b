"""Session start: the disclosure comes before anything else (LEGAL.md S1-S6)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.responses import say
from permanence.firm import load_firm

# One message: who we are (an AI, not the lawyer, no advice), the terms, the privacy notice, the
# deadline warning and the consent question with its buttons (LEGAL.md S1-S6).
DISCLOSURE = ("utter_opening",)
SESSION_START = "action_session_start"


def disclosed(tracker: Tracker) -> bool:
    """Whether this session's disclosure and consent question (``DISCLOSURE``) reached the person.

    - A ``SessionStarted`` begins the session: only ``action_session_start`` below returns it,
      in the same answer as the disclosure, so Rasa logged both or neither. (Its messages come
      before it in the tracker, and Rasa's SQL tracker store loads a tracker from the last
      ``SessionStarted`` on: the messages themselves are usually not there to read.)
    - A session start logged without ``SessionStarted`` failed: the action server was down at
      the person's first message, and Rasa never runs it again for that conversation. Then, as
      after a restart, the disclosure counts only if it was sent since: every response of
      ``DISCLOSURE``, in order, among the bot's messages.
    """
    sent: list[str] = []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            return True
        if kind == "restart" or (kind == "action" and event.get("name") == SESSION_START):
            break
        if kind == "bot":
            sent.append((event.get("metadata") or {}).get("utter_action") or "")
    remaining = iter(reversed(sent))  # oldest first; `in` consumes: an ordered subsequence
    return all(response in remaining for response in DISCLOSURE)


def disclose(dispatcher: CollectingDispatcher) -> None:
    """Send the opening: the disclosure, the terms, the privacy notice, the deadline warning and
    the consent question (LEGAL.md S1-S6), in one message."""
    for response in DISCLOSURE:
        say(dispatcher, response)


class ActionSessionStart(Action):
    """Start the session: the opening (who we are, terms, privacy, deadlines, consent question).

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
