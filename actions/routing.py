"""After consent: send the question to the triage, the referral, or the lawyer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains
from actions.consent import question_events
from actions.parsing import parse_mesure
from actions.responses import say

# A first message this long already tells the story: it becomes the account ("récit").
RECIT_FROM_QUESTION_CHARS = 80


def decide_route(domain: str | None, question: str | None, handoff_requested: bool) -> str:
    """The next step: 'handoff', 'referral', 'triage' or 'question' (still waiting)."""
    if handoff_requested:
        return "handoff"
    if domain == domains.OUT_OF_SCOPE:
        return "referral"
    if domain in domains.IN_SCOPE:
        return "triage"
    return "question"


class ActionRouteQuestion(Action):
    def name(self) -> str:
        return "action_route_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        events: list[EventType] = [] if intent == "affirm" else question_events(tracker)
        slots = {**tracker.current_slot_values()}
        for event in events:
            slots[event["name"]] = event["value"]
        question = slots.get("question_initiale")
        route = decide_route(slots.get("domaine"), question, bool(slots.get("handoff_requested")))

        if route == "triage":
            say(dispatcher, "utter_triage_intro")
            if question and len(question) >= RECIT_FROM_QUESTION_CHARS:
                events.append(SlotSet("recit", question))
            mesure = parse_mesure(question or "")
            if (slots.get("domaine") in domains.LIBERTY_DOMAINS
                    and mesure in ("retention", "assignation", "detention")):
                events.append(SlotSet("mesure_privative", mesure))
        elif route == "referral":
            say(dispatcher, "utter_out_of_scope")
        elif route == "question":
            say(dispatcher, "utter_ask_domaine" if question else "utter_ask_question")
        events.append(SlotSet("route", route))
        return events
