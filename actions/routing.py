"""After consent: send the question to the triage, the referral, or the lawyer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains, intake
from actions.consent import question_events
from actions.dates_fr import PARIS
from actions.intake_action import conversation_turns
from actions.responses import say, times_sent
from permanence import clock

# The question (or its domain) is asked this many times, then the lawyer is offered.
MAX_QUESTION_ASKS = 2
ASKING = ("utter_ask_question", "utter_ask_domaine", "utter_ask_question_or_lawyer")


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
        legal_domain = slots.get("domaine")
        answering_scope = tuple(slots.get("asked") or ()) == (intake.SCOPE,)
        if answering_scope and not slots.get("handoff_requested"):
            text = ((tracker.latest_message or {}).get("text") or "").strip()
            legal_domain = intake.scope_answer(text, clock.now().astimezone(PARIS),
                                               ranked_in_scope(tracker))
            events += [SlotSet("asked", None), SlotSet("domaine", legal_domain)]
        elif legal_domain and not slots.get("handoff_requested"):
            # Scope as a public-law lawyer decides: is an administration the author?
            facts = intake.read(conversation_turns(tracker)).facts
            decided = intake.scope(legal_domain, facts, ranked_in_scope(tracker))
            if decided == intake.ASK_SCOPE:
                say(dispatcher, "utter_ask_scope")
                return events + [SlotSet("asked", [intake.SCOPE]), SlotSet("route", "question")]
            if decided != legal_domain:
                events.append(SlotSet("domaine", decided))
                legal_domain = decided
            if facts.postcode is not None:
                events.append(SlotSet("code_postal", facts.postcode.value))
        route = decide_route(legal_domain, question, bool(slots.get("handoff_requested")))

        if route == "referral":
            say(dispatcher, "utter_out_of_scope")
        elif route == "question" and times_sent(tracker, *ASKING) >= MAX_QUESTION_ASKS:
            # Never a dead end: after two tries, the way to the lawyer as things are.
            say(dispatcher, "utter_ask_question_or_lawyer")
        elif route == "question":
            say(dispatcher, "utter_ask_domaine" if question else "utter_ask_question")
        events.append(SlotSet("route", route))
        return events


def ranked_in_scope(tracker: Tracker) -> str | None:
    """The best public-law domain of the NLU ranking of the person's first question."""
    for event in tracker.events:
        if event.get("event") != "user" or not (event.get("text") or "").strip():
            continue
        ranking = (event.get("parse_data") or {}).get("intent_ranking") or []
        for ranked in ranking:
            domain = domains.from_intent(ranked.get("name"))
            if domain in domains.IN_SCOPE:
                return domain
        return None
    return None
