"""After consent: send the question to the triage, the referral, or the lawyer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains, intake, understood
from actions.consent import question_events
from actions.dates_fr import PARIS
from actions.intake_action import conversation_turns
from actions.parsing import says_nothing
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
        thin = legal_domain == domains.OUT_OF_SCOPE and intake.thin_story(
            question, intake.read(conversation_turns(tracker)).facts)
        if ((says_nothing(question) or thin) and not slots.get("handoff_requested")
                and not answering_scope and not times_sent(tracker, "utter_intake_questions")):
            # « bjr j'ai besoin d'un conseil svp », « c'est au sujet de l'école du village »:
            # nothing to route yet, whatever the NLU read (often « hors champ »). Ask for the
            # story, never a referral on it.
            say(dispatcher, "utter_intake_questions",
                questions=intake.QUESTION_TEXT[intake.STORY])
            return events + [SlotSet("domaine", None), SlotSet("asked", [intake.STORY]),
                             SlotSet("route", "question")]
        if tuple(slots.get("asked") or ()) == (intake.STORY,):
            events.append(SlotSet("asked", None))  # the story came: routed like a first message
        if answering_scope and not slots.get("handoff_requested"):
            text = ((tracker.latest_message or {}).get("text") or "").strip()
            legal_domain = intake.scope_answer(text, clock.now().astimezone(PARIS),
                                               ranked_in_scope(tracker))
            events += [SlotSet("asked", None), SlotSet("domaine", legal_domain)]
            postcode = intake.read(conversation_turns(tracker)).facts.postcode
            if postcode is not None and legal_domain == domains.OUT_OF_SCOPE:
                events.append(SlotSet("code_postal", postcode.value))  # the person said so
        elif legal_domain and slots.get("route") == "referral" and (
                legal_domain == domains.OUT_OF_SCOPE):
            # The person corrected the triage's summary: no administration (action_intake).
            postcode = intake.read(conversation_turns(tracker)).facts.postcode
            if postcode is not None:
                events.append(SlotSet("code_postal", postcode.value))
        elif legal_domain and not slots.get("handoff_requested"):
            # Scope as a public-law lawyer decides: is an administration the author?
            facts = intake.read(conversation_turns(tracker)).facts
            decided = intake.scope(legal_domain, facts, ranked_in_scope(tracker))
            if decided == intake.ASK_SCOPE:
                say(dispatcher, "utter_ask_scope")
                return events + [SlotSet("asked", [intake.SCOPE]), SlotSet("route", "question")]
            # Plain scope: the NLU read it out of scope and the facts agree. Overruled by the
            # facts (a private party, no administration), the referral's postcode question
            # shows what was understood and asks to confirm it, even with the postcode known.
            plain = decided == legal_domain
            if decided != legal_domain:
                events.append(SlotSet("domaine", decided))
                legal_domain = decided
            if facts.postcode is not None and (plain or decided != domains.OUT_OF_SCOPE):
                events.append(SlotSet("code_postal", facts.postcode.value))
        route = decide_route(legal_domain, question, bool(slots.get("handoff_requested")))

        if route == "referral" and any(e.get("name") == "code_postal" for e in events):
            # The postcode is known: what was understood, then the referral (no extra turn).
            facts = intake.read(conversation_turns(tracker)).facts
            say(dispatcher, "utter_out_of_scope", understood=understood.understood(
                facts, question or ""))
        elif route == "referral":
            pass  # the referral form's postcode question says what was understood
        elif route == "question" and times_sent(tracker, *ASKING) >= MAX_QUESTION_ASKS:
            # Never a dead end: after two tries, the way to the lawyer as things are.
            say(dispatcher, "utter_ask_question_or_lawyer")
        elif route == "question":
            say(dispatcher, "utter_ask_domaine" if question else "utter_ask_question")
        events.append(SlotSet("route", route))
        return events


def ranked_in_scope(tracker: Tracker) -> str | None:
    """The best public-law domain of the NLU ranking of the person's first question."""
    return domains.ranked_in_scope(tracker.events)
